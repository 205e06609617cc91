// The canary judge: sequential, anytime-valid tests of canary against stable (error rate and
// latency) as e-processes, and the split of the cutover's false-rollback budget between them.
// Pure: states are small JSON-safe values updated one check batch at a time.
export { splitAlpha } from './alpha.ts';
export type { BatchOutcome, Revision, SkipReason } from './batch.ts';
export type { EvidenceFigures, JudgeDecision } from './decision.ts';
export {
  decideErrorRate,
  errorRateFigures,
  errorRateLogEvidence,
  newErrorRateJudge,
  updateErrorRate,
  type ErrorBatch,
  type ErrorRateConfig,
  type ErrorRateFigures,
  type ErrorRateState,
  type RevisionErrors,
} from './error-rate.ts';
export {
  decideLatency,
  latencyFigures,
  latencyLogEvidence,
  latencyOddsFloor,
  newLatencyJudge,
  slowThresholdIndex,
  updateLatency,
  type LatencyBatch,
  type LatencyConfig,
  type LatencyFigures,
  type LatencyState,
  type SlowCounts,
} from './latency.ts';
export { batchLogLr, GRID_POINTS, GRID_RATIO, logEvidence, oddsPrior, type OddsPrior } from './odds.ts';
export {
  GUARD_MIN_REQUESTS,
  histogramQuantile,
  judgeSample,
  newJudgeTrack,
  nextCohortJudge,
  type CohortCanary,
  type JudgedCheck,
  type JudgeReading,
  type JudgeTrack,
  type JudgeVerdict,
} from './gate.ts';
