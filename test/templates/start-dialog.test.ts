// The start dialog as a pure function: Slack's modal limits held, stable preselected as the
// revision serving 100 %, and a plan that cannot start saying why.
import { describe, expect, it } from 'vitest';
import { defaultRevisions, startDialog } from '../../templates/start-dialog.ts';
import { checkView } from '../fakes/block-kit.ts';
import { makePlan } from '../support/plans.ts';

const context = { channel: 'C0WARROOM', user: 'U0RM1', responseUrl: 'https://hooks.slack.com/commands/T0/1/abc' };
const plan = makePlan((doc) => (doc.service = { platform: 'simulated', name: 'demo-svc', stable: 'demo-001', canary: 'demo-002' }));
const revisions = (n: number, serving = 3) => Array.from({ length: n }, (_, i) => ({ name: `demo-${String(n - i).padStart(3, '0')}`, createdAt: Date.UTC(2026, 10, 1) + (n - i) * 60_000, percent: n - i === serving ? 100 : 0 }));
const blockOf = (view: { blocks: readonly unknown[] }, id: string) => view.blocks.find((b) => (b as { block_id?: string }).block_id === id) as any;

describe('startDialog', () => {
  it('lists at most 100 plans, saying how many more there are', () => {
    const plans = Array.from({ length: 200 }, (_, i) => `plan-${String(i).padStart(3, '0')}`);
    const view = startDialog({ context, plans });
    expect(checkView(view)).toBeNull();
    expect(blockOf(view, 'plan').element.options).toHaveLength(100);
    expect(JSON.stringify(view.blocks)).toContain('100 more plans are not listed');
    expect(JSON.parse(view.private_metadata!)).toEqual(context);
  });

  it('offers the newest revisions first (at most 100), stable preselected as the one serving 100 %', () => {
    const view = startDialog({ context, plans: ['demo'], chosen: { name: 'demo', plan, problems: [], revisions: revisions(150, 120) } });
    expect(checkView(view)).toBeNull();
    const canary = blockOf(view, 'canary').element;
    const stable = blockOf(view, 'stable').element;
    expect(canary.options).toHaveLength(100);
    expect(canary.options[0].text.text).toBe('demo-150 · 2026-11-01 02:30 UTC · newest');
    expect(stable.initial_option.value).toBe('demo-120');
    // The plan's canary is not among them: the newest other revision is proposed.
    expect(canary.initial_option.value).toBe('demo-150');
  });

  it('defaults: the plan’s canary when offered; stable from the plan when nothing serves 100 %', () => {
    expect(defaultRevisions(plan, revisions(3, 1))).toEqual({ stable: 'demo-001', canary: 'demo-002' });
    expect(defaultRevisions(plan, revisions(3, 99).map((r) => ({ ...r, percent: 50 })))).toEqual({ stable: 'demo-001', canary: 'demo-002' });
  });

  it('without a list (a feature flag, or the listing failed) the plan’s revisions are typed, prefilled, and it says why', () => {
    const view = startDialog({ context, plans: ['demo'], chosen: { name: 'demo', plan, problems: [], revisions: null, revisionsError: 'missing permission run.revisions.list' } });
    expect(checkView(view)).toBeNull();
    expect(blockOf(view, 'canary').element).toMatchObject({ type: 'plain_text_input', initial_value: 'demo-002' });
    expect(JSON.stringify(view.blocks)).toContain('The revisions could not be listed (missing permission run.revisions.list): type them.');
  });

  it('a plan that cannot start shows its problems and nothing to fill in', () => {
    const view = startDialog({ context, plans: ['bad'], chosen: { name: 'bad', plan: null, problems: ['stages[1]: must be greater than stages[0] (50)'], revisions: null } });
    expect(checkView(view)).toBeNull();
    expect(blockOf(view, 'canary')).toBeUndefined();
    expect(JSON.stringify(view.blocks)).toContain('⚠️ *bad* cannot be started:\\n• stages[1]: must be greater than stages[0] (50)');
  });

  it('a plan of another channel says where to start it', () => {
    const view = startDialog({ context: { ...context, channel: 'C0OTHER' }, plans: ['demo'], chosen: { name: 'demo', plan, problems: [], revisions: revisions(2, 1) } });
    expect(JSON.stringify(view.blocks)).toContain('This plan runs in <#C0WARROOM>: start it there');
  });
});
