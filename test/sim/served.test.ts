// The simulated traffic a judge counts: random but seeded, the same for every process and every
// check from the same shift log, following the split, and as bad as the scenario says.
import { describe, expect, it } from 'vitest';
import { scenarioSpec } from '../../src/sim/scenario.ts';
import { forgetServed, LATENCY_BOUNDS, REQUESTS_PER_SLICE, SLICE_PLAN_MS, servedCounters, type Shift } from '../../src/sim/served.ts';

const T0 = 1_800_000_000_000;
const SLICE = SLICE_PLAN_MS; // speed 1
const spec = (input: Record<string, unknown> = {}) => scenarioSpec.parse({ name: 'healthy', ...input });
const shifts: Shift[] = [
  { percent: 5, at: T0 },
  { percent: 25, at: T0 + 100 * SLICE + 3_000 },
];

describe('served counters', () => {
  it('count every whole slice of every split, each slice 1,000 requests shared by the split', () => {
    forgetServed();
    const c = servedCounters('svc', spec(), shifts, T0 + 200 * SLICE + 3_500);
    expect(c.canary.requests + c.stable.requests).toBe(200 * REQUESTS_PER_SLICE);
    // 100 slices at 5 % and 100 at 25 %: 30,000 canary requests expected, σ ≈ 124.
    expect(Math.abs(c.canary.requests - 30_000)).toBeLessThan(4 * 124);
    expect(c.canary.latency.reduce((a, b) => a + b, 0)).toBe(c.canary.requests);
    expect(c.bounds).toBe(LATENCY_BOUNDS);
  });

  it('are the same draws for the same seed and shift log, in any process, however often and whenever asked', () => {
    forgetServed();
    const stepwise = [1, 50, 120, 199].map((n) => servedCounters('svc', spec({ seed: 7 }), shifts, T0 + n * SLICE + 3_500)).at(-1);
    forgetServed();
    const fresh = servedCounters('svc', spec({ seed: 7 }), shifts, T0 + 199 * SLICE + 3_500);
    expect(stepwise).toEqual(fresh);
    expect(servedCounters('svc', spec({ seed: 8 }), shifts, T0 + 199 * SLICE + 3_500)).not.toEqual(fresh);
    expect(servedCounters('other-svc', spec({ seed: 7 }), shifts, T0 + 199 * SLICE + 3_500)).not.toEqual(fresh);
  });

  it('only grow as time passes, and start again when the log changes where slices were counted', () => {
    forgetServed();
    const a = servedCounters('svc', spec(), shifts, T0 + 150 * SLICE);
    const b = servedCounters('svc', spec(), shifts, T0 + 160 * SLICE);
    expect(b.canary.requests).toBeGreaterThan(a.canary.requests);
    expect(b.stable.errors).toBeGreaterThanOrEqual(a.stable.errors);
    // A shift that lands (late) inside slices already counted: the counters become what a process
    // that saw the whole log from the start computes.
    const late = [...shifts, { percent: 50, at: T0 + 140 * SLICE }];
    const after = servedCounters('svc', spec(), late, T0 + 160 * SLICE);
    forgetServed();
    expect(servedCounters('svc', spec(), late, T0 + 160 * SLICE)).toEqual(after);
  });

  it("serve a subtle canary twice stable's errors from its first cohort, a healthy one as stable", () => {
    forgetServed();
    const all: Shift[] = [{ percent: 50, at: T0 }];
    const subtle = servedCounters('svc', spec({ name: 'subtle' }), all, T0 + 2_000 * SLICE);
    const rate = (s: { requests: number; errors: number }) => s.errors / s.requests;
    // 1,000,000 requests per side, 0.1 % and 0.2 %: σ of a rate ≈ 0.00004.
    expect(rate(subtle.stable)).toBeCloseTo(0.001, 3);
    expect(rate(subtle.canary)).toBeCloseTo(0.002, 3);
    const healthy = servedCounters('svc', spec(), all, T0 + 2_000 * SLICE);
    expect(Math.abs(rate(healthy.canary) - rate(healthy.stable))).toBeLessThan(0.0003);
  });

  it('before any shift, nothing was served', () => {
    expect(servedCounters('svc', spec(), [], T0)).toMatchObject({ canary: { requests: 0 }, stable: { requests: 0 } });
  });
});
