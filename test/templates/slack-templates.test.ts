// The Slack templates as pure functions of the engine's state: the buttons each phase offers and
// what they carry, Slack's limits held whatever people typed or gates printed, and the words of
// seed 003's messages.
import { describe, expect, it } from 'vitest';
import type { Escalation, EscalationCode, Notice, Phase } from '../../src/domain/state.ts';
import { decodeButtonValue } from '../../templates/button-value.ts';
import { clip, clipLines, escape, mention } from '../../templates/blocks.ts';
import { statusCard } from '../../templates/card.ts';
import { closingMessage, escalationMessage, statusPageDraft, threadNotice, updateMessage } from '../../templates/messages.ts';
import { accepted } from '../../templates/replies.ts';
import { Drive, OPS, reach, STARTER } from '../domain/drive.ts';
import { checkMessage } from '../fakes/block-kit.ts';
import { makePlan } from '../support/plans.ts';

/** With hypercare, so every phase can be reached. */
const plan = makePlan((doc) => (doc.hypercare = { duration: '72h' }));
const view = (d: Drive) => ({ state: d.state, plan: d.plan });
const actionsOf = (message: { blocks: readonly unknown[] }) =>
  ((message.blocks.find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string; confirm?: unknown }> } | undefined)?.elements ?? []);

describe('the status card', () => {
  const BUTTONS: Record<string, string[]> = {
    scheduled: ['abort'],
    ready: ['hold'],
    hypercare: ['rollback'],
    preflight: [],
    awaiting_go_no_go: ['approve', 'reject'],
    shifting: [],
    soaking: ['hold', 'rollback'],
    awaiting_promotion: ['promote', 'hold', 'rollback'],
    held_soaking: ['resume', 'rollback'],
    held_preflight: ['resume'],
    rolling_back: [],
    rolled_back: [],
    completed: [],
    aborted: [],
    failed: [],
  };

  it.each(Object.entries(BUTTONS))('%s offers %j, each carrying the cutover and its phaseSeq', (phase, expected) => {
    const d = reach(plan, phase as Phase);
    const card = statusCard(view(d));
    expect(checkMessage({ text: card.text, blocks: card.blocks })).toBeNull();
    const buttons = actionsOf(card);
    expect(buttons.map((b) => b.action_id)).toEqual(expected);
    for (const b of buttons) expect(decodeButtonValue(b.value)).toEqual({ c: d.state.id, s: d.state.phaseSeq });
    // The buttons that cannot be taken back ask first.
    expect(buttons.filter((b) => b.confirm).map((b) => b.action_id)).toEqual(expected.filter((a) => a === 'rollback' || a === 'abort'));
    expect(actionsOf(statusCard(view(d), { buttons: false }))).toEqual([]);
  });

  it('names the roles and approvals still needed for the go/no-go, and the two-person rule', () => {
    const d = reach(makePlan((doc) => (doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 })), 'awaiting_go_no_go');
    d.must({ type: 'approve', actor: STARTER });
    const text = JSON.stringify(statusCard(view(d)).blocks);
    expect(text).toContain('Needs *1* more approval from *release-manager* or *ops-lead*; at least one from someone other than <@U0RM1> (two-person rule).');
    expect(text).toContain('Approved so far: <@U0RM1> (release-manager)');
  });

  it('stays within Slack limits whatever people typed and gates printed', () => {
    const d = reach(plan, 'soaking');
    d.must({ type: 'hold', actor: OPS, reason: `<!channel> ${'x'.repeat(5_000)}` });
    const huge = { ...d.state, gates: { slo: { failingSince: null, errors: 1, last: { verdict: 'error' as const, at: 0, observations: [], error: 'e'.repeat(10_000) } } } };
    const card = statusCard({ state: huge, plan });
    expect(checkMessage({ text: card.text, blocks: card.blocks })).toBeNull();
    // Only plain_text (the header) may show it verbatim: Slack never parses mentions there.
    expect(JSON.stringify(card.blocks.filter((b) => b.type !== 'header'))).not.toContain('<!channel>');
    expect(card.text).toMatch(/^Cutover demo: held: &lt;!channel&gt; x+…$/);
  });
});

describe('messages', () => {
  it('thread notices mention people and escape what they typed', () => {
    const notice: Notice = { kind: 'held', by: 'U0OPS', code: 'manual', reason: '<!channel> db & cache <@U0EVIL>' };
    expect(threadNotice(notice, view(reach(plan, 'soaking'))).text).toBe('⏸️ HELD (held by hand) by <@U0OPS>: &lt;!channel&gt; db &amp; cache &lt;@U0EVIL&gt;');
    const go: Notice = { kind: 'go', approvers: ['U0RM2', 'U0OPS'] };
    expect(threadNotice(go, view(reach(plan, 'shifting'))).text).toBe('🟢 GO: approved by <@U0RM2>, <@U0OPS>');
    const unverified: Notice = { kind: 'aborted', by: 'U0OPS', reason: 'freeze', unverified: 'Cloud Run did not answer <in time>' };
    expect(threadNotice(unverified, view(reach(plan, 'awaiting_go_no_go'))).text).toContain(
      'freeze (the split served could not be read: Cloud Run did not answer &lt;in time&gt;; check that the canary serves nothing)',
    );
  });

  it.each<EscalationCode>(['rollback', 'gate_failed', 'gate_errors', 'approval_stuck', 'traffic_failed', 'rollback_failed', 'preflight_failed', 'checkpoint_missed', 'checkpoint_gates_failed', 'hypercare_gate_failed'])(
    'the %s escalation follows seed 003 and mentions escalation.mention',
    (code) => {
      const p = makePlan((doc) => (doc.escalation.mention = ['S0MANAGERS', 'U0CTO']));
      const escalation: Escalation = { code, detail: 'gate slo failed at 25 %' };
      const message = escalationMessage(escalation, view(reach(p, 'rolling_back')));
      expect(checkMessage({ text: message.text, blocks: message.blocks })).toBeNull();
      expect(message.text.startsWith('<!subteam^S0MANAGERS> <@U0CTO> 🚨 demo cutover issue')).toBe(true);
      const text = JSON.stringify(message.blocks);
      for (const part of ['🚨 *demo Cutover Issue*', '*Problem:* gate slo failed at 25 %', '*Impact:* ', '*Action:* ', '*ETA:* ', '*War room:* <#C0WARROOM>']) expect(text).toContain(part);
    },
  );

  it('the 30-minute update has seed 003’s five lines', () => {
    const d = reach(plan, 'soaking');
    const message = updateMessage(view(d), d.now + 31 * 60_000);
    const text = (message.blocks[0] as { text: { text: string } }).text.text;
    expect(text.split('\n')).toEqual([
      '*🟢 demo Cutover Update [T+31min]*',
      '*Status:* On Track',
      '*Traffic:* 1 % canary / 99 % stable',
      '*Key Metrics:* Error rate n/a, P95 latency n/a',
      '*Issues:* None',
      expect.stringMatching(/^\*Next checkpoint:\* soak of 1 % ends in /),
    ]);
  });

  describe('the update says Issue whenever a gate is not passing', () => {
    // A `for:` window long enough that one failing check is only a watch, and room for errors.
    const watched = makePlan((doc) => {
      doc.hypercare = { duration: '72h' };
      doc.gates.stage[0].for = '10m';
      doc.gates.stage[0].max_errors = 5;
    });
    const lines = (d: Drive) => (updateMessage(view(d), d.now + 60_000).blocks[0] as { text: { text: string } }).text.text.split('\n');
    const phases = ['soaking', 'awaiting_promotion', 'held_soaking', 'hypercare'] as const;

    it.each(phases)('%s: On Track while every gate passes', (phase) => {
      const d = reach(watched, phase);
      d.check('pass', 60_000);
      const text = lines(d);
      expect(text[1]).toBe(phase === 'held_soaking' ? '*Status:* Issue' : '*Status:* On Track');
    });

    it.each(phases)('%s: a gate failing inside its for: window (watch) is an Issue, and listed', (phase) => {
      const d = reach(watched, phase);
      d.check('fail', 60_000);
      expect(Object.values(d.state.gates).map((t) => t.last?.verdict)).toEqual(['watch']);
      const text = lines(d);
      expect(text[0]).toMatch(/^\*🟡 /);
      expect(text[1]).toBe('*Status:* Issue');
      expect(text[4]).toBe('*Issues:* slo failing (within its for: window): v 9 (&lt;= 2)');
    });

    it.each(phases)('%s: a gate that cannot be measured is an Issue, and listed', (phase) => {
      const d = reach(watched, phase);
      d.check('error', 60_000);
      expect(Object.values(d.state.gates).map((t) => t.last?.verdict)).toEqual(['error']);
      const text = lines(d);
      expect(text[1]).toBe('*Status:* Issue');
      expect(text[4]).toMatch(/^\*Issues:\* slo .*timeout/);
    });
  });

  it('status-page drafts for the start (completion if every soak is clean) and for a rollback', () => {
    const d = reach(plan, 'rolling_back');
    expect(JSON.stringify(statusPageDraft('start', view(d)).blocks)).toContain('We are currently deploying new features to improve performance and capabilities.');
    expect(JSON.stringify(statusPageDraft('start', view(d)).blocks)).toContain('Expected completion: 2026-11-23 12:40 UTC');
    expect(JSON.stringify(statusPageDraft('rollback', view(d)).blocks)).toContain('We have reverted a deployment after detecting an issue.');
  });

  it('the closing message clips SUMMARY.md at a line to what one message may hold', () => {
    const summary = Array.from({ length: 2_000 }, (_, i) => `| ${i} | a line of the cohort table |`).join('\n');
    const message = closingMessage(view(reach(plan, 'completed')), summary, { path: '/evidence/demo/x', files: 6 });
    expect(checkMessage({ text: message.text, blocks: message.blocks })).toBeNull();
    const md = (message.blocks.find((b) => b.type === 'markdown') as { text: string }).text;
    expect(md.length).toBeLessThanOrEqual(10_000);
    expect(md.endsWith('\n… cut here to fit Slack: the whole SUMMARY.md is in the thread')).toBe(true);
    expect(md.split('\n').at(-2)).toMatch(/^\| \d+ \| a line of the cohort table \|$/);
  });
});

describe('text hygiene', () => {
  it('escapes, clips without breaking entities or emoji, and mentions by kind of id', () => {
    expect(escape('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('ab&amp;cd', 5)).toBe('ab…');
    expect(clip('a😀b', 3)).toBe('a…');
    expect(clipLines('one\ntwo\nthree', 12, 'more')).toBe('one\n… more');
    expect([mention('U0A'), mention('W0A'), mention('S0A'), mention('C0A'), mention('<x>')]).toEqual(['<@U0A>', '<@W0A>', '<!subteam^S0A>', '<#C0A>', '&lt;x&gt;']);
  });

  it('a recorded approval that is not yet enough says so, naming the two-person rule to the starter', () => {
    const p = makePlan((doc) => (doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 }));
    const d = reach(p, 'awaiting_go_no_go');
    d.must({ type: 'approve', actor: STARTER });
    expect(accepted({ type: 'approve', by: STARTER.id }, d.state, p)).toBe('👍 Your approval is recorded. *1* more needed, from someone other than you: the two-person rule wants a second person. Roles: release-manager, ops-lead.');
    d.must({ type: 'approve', actor: OPS });
    expect(accepted({ type: 'approve', by: OPS.id }, d.state, p)).toBe('✅ Done: the cutover is shifting traffic to cohort 1.');
  });
});
