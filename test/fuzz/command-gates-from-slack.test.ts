// Issue 5: command gates come only from plan files, never from Slack text. A whole cutover driven
// from Slack with hostile text everywhere a person can type (hold and rollback reasons, revisions
// in canary=/stable=, plan names), its preflight gate, stage gate and rollback step all a real
// command that records its argv and environment. Each run's argv and environment are exactly what
// the plan file says, filled with the plan's name, the cohort and validated revision names; nothing
// typed in Slack reaches them, and nothing was run by a shell.
// (That command gates run without a shell, with a timeout killing the process group and a capped
// output is unit-tested in test/gates/builtin-gates.test.ts.)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitForAudit } from '../support/engine.ts';
import { RM1, openRoom, quickPlan, startedId, waitForButton, type Room } from '../slack/harness.ts';
import { auditOf, noticesOf } from '../faults/trail.ts';

let room: Room;
let record: string;
let marker: string;

const HOSTILE = (marker: string) => `$(touch ${marker}) ; touch ${marker} && rm -rf / | cat /etc/passwd \`touch ${marker}\` > ${marker} \${PATH} <!channel>`;

beforeAll(async () => {
  room = await openRoom({});
  record = join(room.dir, 'gate-runs.jsonl');
  marker = join(room.dir, 'pwned');
  const recorder = join(room.dir, 'recorder.mjs');
  writeFileSync(recorder, `import { appendFileSync } from 'node:fs';\nappendFileSync(process.argv[2], JSON.stringify({ argv: process.argv.slice(3), env: process.env }) + '\\n');\n`);
  const gate = (label: string) => ({ run: [process.execPath, recorder, record, label, '{canary}', '{stable}', '{plan}', '{percent}', 'fixed words from the plan'], env: { GATE_NOTE: 'checking {canary} for {plan}' } });
  writeFileSync(
    join(room.dir, 'plans', 'gated.yaml'),
    quickPlan('gated', (doc) => {
      // Traffic is simulated; the gates are real commands.
      doc.service.gates = 'real';
      doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
      doc.stages = [10, 100];
      doc.soak = '2s';
      doc.gates = { preflight: [{ id: 'G1', command: gate('preflight') }], stage: [{ id: 'probe', command: gate('stage') }] };
      doc.rollback = { before: [{ id: 'route-override', command: gate('rollback') }] };
    }),
  );
});

afterAll(async () => {
  await room?.close();
});

const runs = (): Array<{ argv: string[]; env: Record<string, string> }> =>
  existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : [];

it('nothing typed in Slack reaches a command gate’s argv or environment', async () => {
  // Revisions are the only Slack text that may reach a gate ({canary}, {stable}): anything but a
  // revision name is refused before anything starts.
  for (const option of ['canary=$(id)', 'canary=a;b', 'canary=a|b', 'canary=`id`', 'canary=a&&b', 'canary=../../x', 'canary=$HOME', 'stable=a>b', 'canary=A', `canary=${'a'.repeat(64)}`, 'canary=a\u0000b']) {
    const reply = await room.slash('/cutover', `start gated ${option}`);
    expect(reply.via, option).toBe('ack');
    expect(reply.text, option).toMatch(/is not a revision name|is not an option/);
  }
  expect(await room.slash('/cutover', `start gated canary=$(touch ${marker})`)).toMatchObject({ via: 'ack', text: expect.stringMatching(/is not/) });
  expect(await room.bot.runtime.store.recentIds(10)).toEqual([]);
  expect(runs()).toEqual([]);

  // A valid start, then hostile reasons everywhere a person can type one.
  const id = startedId(await room.slash('/cutover', 'start gated canary=rev-ok-2'));
  const approve = await waitForButton(room.fake, id, 'approve');
  expect((await room.slash('/cutover', `hold gated ${HOSTILE(marker)}`)).text).toMatch(/^✅ Done: the cutover is held/);
  expect((await room.slash('/cutover', 'resume gated')).text).toMatch(/^✅ Done/);
  const again = await waitForButton(room.fake, id, 'approve', approve.seq);
  expect((await room.click('approve', again.value, { user: RM1 })).text).toMatch(/^✅ Done/);
  await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check', 20_000);
  expect((await room.slash('/rollback', `gated ${HOSTILE(marker)}`)).text).toMatch(/^✅ Done/);
  await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'evidence', 20_000);

  // The reasons were taken, as words: in the audit trail, nowhere else.
  const audit = await auditOf(room.bot.runtime.store, id);
  expect(noticesOf(audit, 'held')[0]?.reason).toBe(HOSTILE(marker));
  expect(noticesOf(audit, 'rollback_started')[0]?.reason).toBe(HOSTILE(marker));

  // Every run of every gate: the argv and environment the plan file wrote, filled in.
  const all = runs();
  const labels = all.map((r) => r.argv[0]);
  expect(labels.filter((l) => l === 'preflight')).toHaveLength(1);
  expect(labels).toContain('stage');
  expect(labels.filter((l) => l === 'rollback')).toHaveLength(1);
  for (const run of all) {
    const percent = run.argv[0] === 'stage' ? '10' : '0';
    expect(run.argv).toEqual([run.argv[0], 'rev-ok-2', 'demo-001', 'gated', percent, 'fixed words from the plan']);
    expect(run.env).toEqual({
      PATH: process.env.PATH,
      GATE_NOTE: 'checking rev-ok-2 for gated',
      CUTOVER_PLAN: 'gated',
      CUTOVER_ID: id,
      CUTOVER_PERCENT: percent,
      CUTOVER_STABLE: 'demo-001',
      CUTOVER_CANARY: 'rev-ok-2',
    });
  }
  // No shell ever ran the words.
  expect(existsSync(marker)).toBe(false);
  expect(JSON.stringify(all)).not.toMatch(/touch|rm -rf|\$\(|`/);
});
