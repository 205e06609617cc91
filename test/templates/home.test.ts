// The App Home view as a pure function: what runs, what finished, the plans with their problems and
// the viewer's roles, always within Block Kit's 100 blocks.
import { describe, expect, it } from 'vitest';
import { homeView, type HomeCutover, type HomePlan } from '../../templates/home.ts';
import { checkView } from '../fakes/block-kit.ts';
import { reach } from '../domain/drive.ts';
import { makePlan } from '../support/plans.ts';

const plan = makePlan();
const running = (n: number): HomeCutover[] =>
  Array.from({ length: n }, (_, i) => {
    const d = reach(plan, 'soaking');
    return { state: { ...d.state, id: `c${i}`, plan: `plan-${i}` }, plan, permalink: `https://fake.slack.com/archives/C0WARROOM/p${i}` };
  });
const finished = (n: number): HomeCutover[] => Array.from({ length: n }, (_, i) => ({ state: { ...reach(plan, 'rolled_back').state, id: `f${i}`, plan: `old-${i}` }, plan, permalink: null }));
const plans = (n: number, broken = 0): HomePlan[] =>
  Array.from({ length: n }, (_, i) =>
    i < broken
      ? { name: `broken-${String(i).padStart(3, '0')}`, plan: null, problems: ['stages[2]: must be greater than stages[1] (10)', 'channel: must be a channel id (C…)'], roles: [] }
      : { name: `plan-${String(i).padStart(3, '0')}`, plan, problems: [], roles: i % 2 ? ['release-manager'] : [] },
  );
const text = (view: { blocks: readonly unknown[] }) => JSON.stringify(view.blocks);

describe('homeView', () => {
  it('lists what runs with a link to its card, the last 10 finished, the plans with problems and the viewer’s roles', () => {
    const view = homeView({ viewer: 'U0RM1', running: running(2), finished: finished(12), plans: plans(3, 1), now: Date.UTC(2026, 10, 24) });
    expect(checkView(view)).toBeNull();
    const all = text(view);
    expect(all).toContain('*Running* (2)');
    expect(all).toContain('*<https://fake.slack.com/archives/C0WARROOM/p0|plan-0>* · simulated `demo-svc`');
    expect(all).toContain('soaking at cohort 1 (1 % canary) · canary *1 %* · started by <@U0RM1>');
    expect(all.match(/old-\d+\* rolled back/g)).toHaveLength(10);
    expect(all).toContain('Plans (3, 1 with problems)');
    expect(all).toContain('⚠️ *broken-000*: 2 problems, cannot be started');
    expect(all).toContain('– stages[2]: must be greater than stages[1] (10)');
    expect(all).toContain('✅ *plan-001* · simulated `demo-svc` · <#C0WARROOM> · your roles: release-manager');
    expect(all).toContain('✅ *plan-002* · simulated `demo-svc` · <#C0WARROOM> · no role of yours');
  });

  it('stays within 100 blocks with 200 plans (20 of them broken) and 60 running cutovers, saying what it left out', () => {
    const view = homeView({ viewer: 'U0RM1', running: running(60), finished: finished(10), plans: plans(200, 20), now: Date.UTC(2026, 10, 24) });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(checkView(view)).toBeNull();
    const all = text(view);
    expect(all).toMatch(/…and \d+ more running/);
    // Broken plans come first: every one is shown.
    for (let i = 0; i < 20; i++) expect(all).toContain(`*broken-${String(i).padStart(3, '0')}*`);
    const shownPlans = (all.match(/✅ \*plan-\d{3}\*/g) ?? []).length;
    if (shownPlans < 180) expect(all).toContain(`…and ${180 - shownPlans} more plans`);
    expect(shownPlans).toBeGreaterThan(50);
  });

  it('with nothing at all says so', () => {
    const view = homeView({ viewer: 'U0RM1', running: [], finished: [], plans: [], now: 0 });
    expect(checkView(view)).toBeNull();
    expect(text(view)).toContain('_Nothing is running._');
    expect(text(view)).toContain('_No plans in PLANS_DIR._');
  });
});
