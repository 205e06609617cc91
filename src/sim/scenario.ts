// Scenarios: what a simulated canary does as a function of its traffic share and of time.
// Deterministic, so a rehearsal or a test breaches exactly where it says it will; the requests a
// judge counts are drawn at random around these rates, from the scenario's seed (served.ts).
import { z } from 'zod';
import type { CanarySignals } from '../ports.ts';

export const scenarioSpec = z
  .object({
    name: z.enum(['healthy', 'bad-canary', 'slow-canary', 'slow-burn', 'subtle']),
    /** Canary percent from which the canary misbehaves: 25 by default; a subtle regression is there from the first cohort. */
    breach_at: z.int().min(1).max(100).optional(),
    /** For slow-burn: plan-time minutes after the first shift until errors cross 1 %. */
    burn_minutes: z.number().positive().default(20),
    /** Plan-time runs this many times faster than the clock (a compressed rehearsal). */
    speed: z.number().positive().default(1),
    /** The random requests the judge counts (src/sim/served.ts) are drawn from this seed. */
    seed: z.int().min(0).max(2 ** 32 - 1).default(1),
  })
  .strict()
  .transform((s) => ({ ...s, breach_at: s.breach_at ?? (s.name === 'subtle' ? 1 : 25) }));

export type ScenarioSpec = z.infer<typeof scenarioSpec>;
export type ScenarioInput = z.input<typeof scenarioSpec>;

export const SCENARIOS: Readonly<Record<ScenarioSpec['name'], string>> = {
  healthy: 'the canary behaves like stable at every cohort',
  'bad-canary': 'the canary starts failing (6 % 5xx, p95 900 ms) once it serves the breach cohort (default 25 %)',
  'slow-canary': 'the canary is 50 % slower than stable from the breach cohort on, with no errors',
  'slow-burn': 'errors creep up with time after the first shift, whatever the share',
  subtle: 'the canary fails twice as often as stable (0.2 % against 0.1 %) from the first cohort (or the breach cohort) on: within every threshold, a case for the judge',
};

const STABLE_ERROR_RATE = 0.001;
const STABLE_P95_MS = 180;
const REQUESTS_AT_FULL_TRAFFIC = 20_000;

export interface WorldView {
  /** Canary percent served now. */
  readonly canaryPercent: number;
  /** Milliseconds (wall clock) since the canary first received traffic; 0 if it has none. */
  readonly sinceFirstShiftMs: number;
}

export function signalsFor(spec: ScenarioSpec, world: WorldView): CanarySignals {
  let errorRate = STABLE_ERROR_RATE;
  let p95 = STABLE_P95_MS;
  const breached = world.canaryPercent >= spec.breach_at;
  switch (spec.name) {
    case 'healthy':
      break;
    case 'bad-canary':
      if (breached) {
        errorRate = 0.06;
        p95 = 900;
      }
      break;
    case 'slow-canary':
      if (breached) p95 = STABLE_P95_MS * 1.5;
      break;
    case 'subtle':
      if (breached) errorRate = 2 * STABLE_ERROR_RATE;
      break;
    case 'slow-burn': {
      const minutes = (world.sinceFirstShiftMs * spec.speed) / 60_000;
      errorRate = STABLE_ERROR_RATE + (0.01 * minutes) / spec.burn_minutes;
      break;
    }
  }
  const share = world.canaryPercent / 100;
  return {
    errorRate: world.canaryPercent > 0 ? errorRate : STABLE_ERROR_RATE,
    stableErrorRate: STABLE_ERROR_RATE,
    p95LatencyMs: world.canaryPercent > 0 ? p95 : STABLE_P95_MS,
    stableP95LatencyMs: STABLE_P95_MS,
    // Error budget burn: the canary's excess errors weighted by its share of traffic.
    errorBudgetRatio: Math.min(1, STABLE_ERROR_RATE + Math.max(0, errorRate - STABLE_ERROR_RATE) * share),
    requestCount: Math.round(REQUESTS_AT_FULL_TRAFFIC * share),
    canaryPercent: world.canaryPercent,
  };
}
