// A GateContext for the Cloud Run service of seed 002, with a 10-minute soak window.
import type { CanarySignals, GateContext } from '../../src/ports.ts';

export const WINDOW_END = Date.parse('2026-03-01T10:10:00.000Z');
export const WINDOW_START = WINDOW_END - 10 * 60_000;

export const CLOUD_RUN_SERVICE = {
  platform: 'cloud-run',
  project: 'openagentsgemini',
  region: 'us-central1',
  name: 'openagents-control-service',
  stable: 'openagents-control-service-00010-abc',
  canary: 'openagents-control-service-00011-def',
} as const;

export function gateContext(overrides: Partial<GateContext> = {}): GateContext {
  const service: GateContext['service'] = CLOUD_RUN_SERVICE;
  return {
    cutoverId: 'c-1',
    planName: 'control-service-canary',
    stage: { index: 1, percent: 5 },
    revisions: { stable: CLOUD_RUN_SERVICE.stable, canary: CLOUD_RUN_SERVICE.canary },
    service,
    serviceKey: `cloud-run:${CLOUD_RUN_SERVICE.project}/${CLOUD_RUN_SERVICE.region}/${CLOUD_RUN_SERVICE.name}`,
    window: { start: WINDOW_START, end: WINDOW_END },
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    env: {},
    ...overrides,
  };
}

export function signals(overrides: Partial<CanarySignals> = {}): CanarySignals {
  return {
    errorRate: 0.002,
    stableErrorRate: 0.001,
    p95LatencyMs: 220,
    stableP95LatencyMs: 200,
    errorBudgetRatio: 0.1,
    requestCount: 1000,
    canaryPercent: 5,
    ...overrides,
  };
}
