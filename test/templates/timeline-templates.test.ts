// The runbook timeline's Slack templates as pure functions of the engine's state: the checklist
// and sign-off messages (buttons, who ticked when, Slack's limits with 20 long items), the nudge,
// the card's timeline section and the go/no-go held back by its checkpoint, and the words.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/domain/plan.ts';
import { decodeSignOffValue, decodeTickValue } from '../../templates/button-value.ts';
import { statusCard } from '../../templates/card.ts';
import { checklistMessage, nudgeMessage, signOffMessage } from '../../templates/checklist.ts';
import { updateMessage } from '../../templates/messages.ts';
import { accepted, refusal, scheduled } from '../../templates/replies.ts';
import { Drive, OPS, reach, RM2, STARTER, T0 } from '../domain/drive.ts';
import { checkMessage } from '../fakes/block-kit.ts';
import { makePlan } from '../support/plans.ts';

const M = 60_000;
const plan = makePlan((doc) => {
  doc.timezone = 'Europe/Berlin';
  doc.timeline = [
    { at: 'T-60', name: 'Final preparation', owner: 'ops-lead', checklist: ['Preflight output <attached>', 'War room & on-call ready'] },
    { at: 'T-10', name: 'Go/no-go meeting', owner: 'release-manager', checklist: ['G1-G5 verified PASS'], blocks: 'go_no_go' },
    { at: 'T+10', name: 'Validation', owner: 'oncall-ops', checklist: ['Health checked'], gates: [{ id: 'healthz', http: { url: 'http://127.0.0.1:9/h' } }] },
  ];
  doc.sign_off = [
    { role: 'ops-lead', item: 'Manuals acknowledged' },
    { role: 'release-manager', item: 'Go/No-Go decision signed at T-10 and T+30.' },
  ];
  doc.hypercare = { duration: '72h' };
});
const view = (d: Drive, p: Plan = plan) => ({ state: d.state, plan: p });

/** Past the go/no-go, its T-10 checkpoint ticked first: shifting to the first cohort, or on to hypercare. */
function past(phase: 'shifting' | 'hypercare'): Drive {
  const d = reach(plan, 'awaiting_go_no_go');
  d.must({ type: 'tick', actor: STARTER, checkpoint: 1, item: 0 });
  d.must({ type: 'approve', actor: RM2 });
  d.must({ type: 'approve', actor: OPS });
  while (phase === 'hypercare' && d.state.phase !== 'hypercare') {
    d.confirm();
    d.soakClean();
    if (d.state.phase === 'awaiting_promotion') d.must({ type: 'promote', actor: STARTER });
  }
  return d;
}
const accessories = (message: { blocks: readonly unknown[] }) => message.blocks.flatMap((b) => ((b as { accessory?: { action_id: string; value: string } }).accessory ? [(b as { accessory: { action_id: string; value: string } }).accessory] : []));
const text = (message: { blocks: readonly unknown[] }) => JSON.stringify(message.blocks);
const valid = (message: { text: string; blocks: readonly unknown[] }) => expect(checkMessage({ text: message.text, blocks: message.blocks })).toBeNull();

describe('the checklist in the thread', () => {
  it('mentions the owners, offers a Tick per open item, shows who ticked what, escapes the plan’s words', () => {
    const d = new Drive(plan);
    d.must({ type: 'tick', actor: OPS, checkpoint: 0, item: 0 }, M);
    const message = checklistMessage(view(d), 0);
    valid(message);
    expect(message.text).toBe('📋 T-60 Final preparation: <@U0OPS> please tick 2 items');
    const all = text(message);
    expect(all).toContain('📋 *T-60 Final preparation* · owner *ops-lead* <@U0OPS>');
    expect(all).toContain('1/2 ticked');
    expect(all).toContain('✅ Preflight output &lt;attached&gt;\\n_<@U0OPS> · <!date^');
    expect(all).toContain('⬜ War room &amp; on-call ready');
    const buttons = accessories(message);
    expect(buttons.map((b) => b.action_id)).toEqual(['tick']);
    expect(decodeTickValue(buttons[0]!.value)).toEqual({ c: d.state.id, k: 0, i: 1 });
  });

  it('done: says so and drops the buttons; after the end, open checklists lose theirs too', () => {
    const d = new Drive(plan);
    d.must({ type: 'tick', actor: STARTER, checkpoint: 1, item: 0 });
    const done = checklistMessage(view(d), 1);
    expect(done.text).toBe('✅ T-10 Go/no-go meeting: done');
    expect(accessories(done)).toEqual([]);
    expect(text(done)).not.toContain('The go/no-go waits for this checkpoint');
    d.must({ type: 'abort', actor: OPS, reason: 'change freeze' });
    const ended = checklistMessage(view(d), 0);
    expect(accessories(ended)).toEqual([]);
    expect(ended.text).toBe('⛔ T-60 Final preparation: not done: the cutover is aborted');
  });

  it('a blocking checkpoint says what waits for it; checkpoint gates show their verdicts', () => {
    expect(text(checklistMessage(view(reach(plan, 'awaiting_go_no_go')), 1))).toContain('🚧 The go/no-go waits for this checkpoint.');
    const d = past('shifting');
    d.must({ type: 'checkpoint_due', index: 2 }, 10 * M);
    expect(text(checklistMessage(view(d), 2))).toContain('Checkpoint gates: ⏳ healthz running');
    expect(checklistMessage(view(d), 2).text).toBe('📋 T+10 Validation: <!subteam^S0ONCALL> please tick 1 item');
  });

  it('20 items of 300 characters each still fit Slack’s limits', () => {
    const long = makePlan((doc) => {
      doc.timeline = [{ at: 'T-60', name: `${'N'.repeat(150)}`, owner: 'ops-lead', checklist: Array.from({ length: 20 }, (_, i) => `${i} ${'<x>&'.repeat(74)}`) }];
    });
    const d = new Drive(long);
    for (let i = 0; i < 10; i++) d.must({ type: 'tick', actor: OPS, checkpoint: 0, item: i });
    const message = checklistMessage(view(d, long), 0);
    valid(message);
    expect(accessories(message)).toHaveLength(10);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
  });

  it('the nudge mentions the owners and says when it escalates', () => {
    const d = new Drive(plan);
    expect(nudgeMessage(view(d), 0).text).toBe('🔔 <@U0OPS> *T-60 Final preparation* is past its grace period: 2 of 2 items still open. Please tick them in its checklist above; in 10m it escalates.');
  });
});

describe('sign-off', () => {
  it('one Sign off per item for its role, edited as people sign, complete at the end', () => {
    const d = past('hypercare');
    const asked = signOffMessage(view(d));
    valid(asked);
    expect(asked.text).toBe('✍️ Sign-off for demo: <@U0OPS> <@U0RM1> <@U0RM2> please confirm your items');
    expect(accessories(asked).map((b) => [b.action_id, decodeSignOffValue(b.value)])).toEqual([
      ['sign_off', { c: d.state.id, i: 0 }],
      ['sign_off', { c: d.state.id, i: 1 }],
    ]);
    d.must({ type: 'sign_off', actor: OPS, item: 0 });
    expect(text(signOffMessage(view(d)))).toContain('✅ *ops-lead*: Manuals acknowledged\\n_<@U0OPS> · <!date^');
    expect(accepted({ type: 'sign_off', by: OPS.id, item: 0 }, d.state, plan)).toBe('✍️ Signed off “Manuals acknowledged”.');
    d.must({ type: 'sign_off', actor: RM2, item: 1 });
    const complete = signOffMessage(view(d));
    expect(complete.text).toBe('✅ Sign-off complete for demo');
    expect(accessories(complete)).toEqual([]);
    expect(accepted({ type: 'sign_off', by: RM2.id, item: 1 }, d.state, plan)).toBe('✍️ Signed off “Go/No-Go decision signed at T-10 and T+30.”. Sign-off is complete.');
  });
});

describe('the status card with a timeline', () => {
  it('lists each checkpoint with owner and status and the next one due', () => {
    const d = new Drive(plan);
    d.must({ type: 'tick', actor: OPS, checkpoint: 0, item: 0 });
    const card = statusCard(view(d));
    valid(card);
    const all = text(card);
    expect(all).toContain('*Runbook timeline* · T0 <!date^');
    expect(all).toContain('🟡 *T-60* Final preparation · _ops-lead_ · open 1/2');
    expect(all).toContain('🟡 *T-10* Go/no-go meeting · _release-manager_ · open 0/1');
    expect(all).toContain('⏳ *T+10* Validation · _oncall-ops_');
    expect(all).toContain(`Next: *T+10* Validation at <!date^${(T0 + 10 * M) / 1000}^{time}|12:10 UTC>`);
  });

  it('no Approve or Reject while the go/no-go checkpoint is open, and the card says which; then they appear', () => {
    const d = reach(plan, 'awaiting_go_no_go');
    const blocked = statusCard(view(d));
    expect(blocked.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(text(blocked)).toContain('*T-10 Go/no-go meeting* must be done first (owner *release-manager*: 0/1 ticked in its checklist in the thread); Approve and Reject appear here then.');
    const refused = d.apply({ type: 'approve', actor: OPS });
    if (refused.ok) throw new Error('approve went through');
    expect(refusal(refused.refusal, d.state, d.now, plan)).toBe('T-10 Go/no-go meeting must be done first (owner: release-manager): tick its checklist, then try again.');
    d.must({ type: 'tick', actor: STARTER, checkpoint: 1, item: 0 });
    expect(text(statusCard(view(d)))).toContain('"action_id":"approve"');
  });

  it('promotion waits for a blocks: promote checkpoint: no Promote button until it is done', () => {
    const p = makePlan((doc) => {
      doc.timeline = [{ at: 'T+30', name: 'Keep or roll back', owner: 'release-manager', checklist: ['decision taken'], blocks: 'promote' }];
    });
    const d = reach(p, 'awaiting_promotion');
    const card = statusCard(view(d, p));
    expect(text(card)).not.toContain('"action_id":"promote"');
    expect(text(card)).toContain('Promotion to 5 % waits: *T+30 Keep or roll back* must be done first (owner *release-manager*: it opens <!date^');
  });

  it('scheduled: T0 in UTC and the plan’s zone, when preflight starts, and the reply says the same', () => {
    const d = new Drive(plan, T0, T0 + 120 * M);
    const all = text(statusCard(view(d)));
    expect(all).toContain('🗓️ *Scheduled* by <@U0RM1>: T0 <!date^');
    expect(all).toContain(`(2026-11-23 15:00 Europe/Berlin, UTC+01:00). Preflight starts <!date^${(T0 + 60 * M) / 1000}^`);
    expect(all).toContain('with *T-60 Final preparation*');
    expect(scheduled(d.state, plan)).toBe(
      '🗓️ Scheduled cutover `c1` of *demo*: T0 is *2026-11-23 14:00 UTC* (2026-11-23 15:00 Europe/Berlin, UTC+01:00).\n' +
        'Preflight and *T-60 Final preparation* start at 2026-11-23 13:00 UTC; traffic moves at T0 once the go/no-go is given. The status card is in <#C0WARROOM>; `/cutover abort` cancels it.',
    );
    // T0 sooner than the first checkpoint: what is due starts at once.
    expect(scheduled(new Drive(plan, T0, T0 + 30 * M).state, plan)).toContain('*T-60 Final preparation* is already due: preflight and the checkpoints that are due start now');
  });

  it('hypercare: its end, cadence, sign-off count, Roll back and how to close', () => {
    const d = past('hypercare');
    const all = text(statusCard(view(d)));
    expect(all).toContain('🩺 *Hypercare* until <!date^');
    expect(all).toContain('the stage gates run every 1h, a summary every 1d');
    expect(all).toContain('`/cutover close [reason]` ends hypercare early and keeps the release');
    expect(all).toContain('✍️ Sign-off 0/2');
  });
});

describe('words', () => {
  it('the hypercare summary is titled as such, with its own cadence', () => {
    const d = past('hypercare');
    const message = updateMessage(view(d), d.now + 24 * 60 * M);
    expect(message.text).toMatch(/^🟢 demo Hypercare Daily Summary \[T\+1d\d*h?\d*m?\]: On Track$/);
    expect(text(message)).toContain('a summary every 1d');
  });

  it('refusals of ticks, sign-off and close say who may and what applies', () => {
    const d = reach(plan, 'awaiting_go_no_go');
    const tick = d.apply({ type: 'tick', actor: OPS, checkpoint: 1, item: 0 });
    const close = d.apply({ type: 'close', actor: STARTER });
    const sign = d.apply({ type: 'sign_off', actor: OPS, item: 0 });
    if (tick.ok || close.ok || sign.ok) throw new Error('expected refusals');
    expect(refusal(tick.refusal, d.state, d.now, plan)).toBe("Only the checkpoint's owner (release-manager) may tick T-10 Go/no-go meeting. Nothing was changed.");
    expect(refusal(close.refusal, d.state, d.now, plan)).toBe('Only hypercare can be closed early, and the cutover is not in hypercare (waiting for the go/no-go). Nothing was changed.');
    expect(refusal(sign.refusal, d.state, d.now, plan)).toBe("Sign-off opens once the rollout's outcome is known: in hypercare or at the end (waiting for the go/no-go). Nothing was changed.");
  });
});
