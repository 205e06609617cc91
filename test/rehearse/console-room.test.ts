// The rehearsal's terminal: what happens, not every all-pass check. A soak of clean checks is one
// progress line; a gate whose verdict changes is printed when it changes; --verbose prints every
// check; and a line never shows an earlier time than the one above it.
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Transition } from '../../src/domain/state.ts';
import { ConsoleRoom } from '../../src/app/rehearsal/console-room.ts';
import { makePlan } from '../support/plans.ts';
import { Drive, STARTER, T0, fail, ok, pass } from '../domain/drive.ts';

/** Plays every notice of the transitions into a room, each posted `delayMs` after the moment it records. */
async function play(transitions: ReadonlyArray<Extract<Transition, { ok: true }>>, d: Drive, options: { verbose?: boolean; delayMs?: number } = {}) {
  const lines: string[] = [];
  let clock = T0;
  const room = new ConsoleRoom((l) => lines.push(l), { started: T0, now: () => clock, ...(options.verbose ? { verbose: true } : {}) });
  for (const t of transitions) {
    for (const e of t.effects) {
      if (e.type !== 'announce') continue;
      const entry: AuditEntry = { type: 'notice', at: clockOf(t), version: t.state.version, notice: e.notice };
      clock = entry.at + (options.delayMs ?? 0);
      await room.post({}, entry, { state: t.state, plan: d.plan });
    }
  }
  room.flush();
  return lines;
}
/** When a transition happened: the time of its latest gate record, else the phase change. */
const clockOf = (t: Extract<Transition, { ok: true }>) => Math.max(t.state.phaseSince, ...t.gateResults.map((g) => g.at));

/** A two-cohort cutover whose gate fails at the second cohort, every transition kept. */
function story(failAtSecond: boolean) {
  const plan = makePlan((doc) => {
    doc.stages = [10, 100];
    doc.gates.stage.push({ id: 'probe', http: { url: 'http://127.0.0.1:9/probe' } });
  });
  const d = new Drive(plan);
  const all: Array<Extract<Transition, { ok: true }>> = [d.opened];
  const keep = (t: Transition) => all.push(ok(t));
  keep(d.preflightPassed());
  keep(d.apply({ type: 'approve', actor: { id: 'U0RM2', roles: ['release-manager'] } }));
  keep(d.apply({ type: 'approve', actor: { id: 'U0OPS', roles: ['ops-lead'] } }));
  keep(d.confirm());
  while (d.state.phase === 'soaking') keep(d.check('pass', Math.max(1, d.state.monitor!.nextAt - d.now)));
  keep(d.apply({ type: 'promote', actor: STARTER }));
  keep(d.confirm());
  keep(d.check('pass', 60_000));
  keep(d.check(failAtSecond ? 'fail' : 'pass', 60_000));
  return { d, all };
}

const times = (lines: readonly string[]) => lines.map((l) => Number(/^\+\s*([\d.]+)s/.exec(l)?.[1]));

describe('the rehearsal terminal', () => {
  it('prints one progress line per soak instead of its all-pass checks, and the gate that changed when it changed', async () => {
    const { d, all } = story(true);
    const lines = await play(all, d);
    expect(lines.filter((l) => / check \d+: /.test(l))).toEqual([
      expect.stringMatching(/cohort 2\/2 check \d+: slo was pass, now FAIL: v 9 \(<= 2\); probe was pass, now FAIL: v 9 \(<= 2\)$/),
    ]);
    expect(lines.filter((l) => / checks? (over|:)/.test(l) || /: 1 check:/.test(l))).toEqual([
      expect.stringMatching(/cohort 1\/2 at 10 %: 10 checks over 540\.00s: every gate passed every check \(slo, probe\)$/),
      expect.stringMatching(/cohort 2\/2 at 100 %: 2 checks over 60\.00s: slo 1 pass, 1 fail; probe 1 pass, 1 fail$/),
    ]);
    // The progress line comes before the event that ended the soak.
    const progress = lines.findIndex((l) => l.includes('cohort 1/2 at 10 %: 10 checks'));
    expect(lines[progress + 1]).toContain('soak clean at 10 %');
    expect(lines.some((l) => l.includes('ROLLBACK (automatic) from 100 %'))).toBe(true);
  });

  it('--verbose prints every check', async () => {
    const { d, all } = story(false);
    const checks = all.flatMap((t) => t.effects).filter((e) => e.type === 'announce' && e.notice.kind === 'gate_check').length;
    const lines = await play(all, d, { verbose: true });
    expect(lines.filter((l) => / check \d+: /.test(l))).toHaveLength(checks);
    expect(checks).toBeGreaterThan(10);
  });

  it('never shows a time earlier than the line above, though entries arrive after the moment they record', async () => {
    const { d, all } = story(true);
    const lines: string[] = [];
    let clock = T0;
    const room = new ConsoleRoom((l) => lines.push(l), { started: T0, now: () => clock });
    // The driver's own line is printed now; the notice it caused was recorded a moment earlier.
    clock = T0 + 500;
    room.line('[rehearsal] approving the go/no-go on behalf of U0RM2 (release-manager): nobody was asked');
    for (const t of all.slice(1, 4)) for (const e of t.effects) if (e.type === 'announce') await room.post({}, { type: 'notice', at: T0 + 100, version: t.state.version, notice: e.notice }, { state: t.state, plan: d.plan });
    const shown = times(lines);
    expect(shown.length).toBeGreaterThan(2);
    for (let i = 1; i < shown.length; i++) expect(shown[i]).toBeGreaterThanOrEqual(shown[i - 1]!);
  });

  it('a healthy run shows its preflight gates by name; a failing gate with its reading', async () => {
    const { d, all } = story(false);
    const lines = await play(all, d);
    expect(lines.find((l) => l.includes('Preflight'))).toMatch(/Preflight passed: G1 passed$/);
    const failing = new Drive(makePlan((doc) => {
      doc.gates.preflight.push({ id: 'G2', command: 'true' });
    }));
    const held = failing.must({ type: 'preflight_done', phaseSeq: failing.state.phaseSeq, results: [pass('G1', failing.now), fail('G2', failing.now)] });
    const heldLines = await play([held], failing);
    expect(heldLines.find((l) => l.includes('Preflight'))).toMatch(/Preflight DID NOT PASS: G2 FAIL: v 9 \(<= 2\); G1 passed$/);
  });
});
