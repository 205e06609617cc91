// What the traffic jobs do with the split a service actually serves, and which gate window a
// check judges. Pure: the jobs read the world and report; these rules decide.
import type { Plan } from './plan.ts';
import type { Split } from './service.ts';
import { isTerminal, type CutoverState } from './state.ts';

export type ShiftAction = { readonly do: 'confirm' } | { readonly do: 'shift' } | { readonly do: 'hold'; readonly message: string };

/**
 * Before shifting to `percent`: if the service already serves the cohort, only confirm it (a
 * crash between shift and record); if it serves neither the cohort nor what the cutover last
 * confirmed, someone moved traffic or the store lost its latest writes (a rollback Redis forgot,
 * say), and moving on from a split we did not set could undo a rollback: hold and say so.
 */
export function beforeShift(served: Split, percent: number, lastConfirmed: number): ShiftAction {
  if (served.canary !== percent && served.canary !== lastConfirmed) {
    return {
      do: 'hold',
      message: `the service serves ${served.canary} % on the canary, not the ${lastConfirmed} % this cutover last confirmed: traffic was moved outside the cutover, or the state store lost its latest writes; nothing was changed`,
    };
  }
  return served.canary === percent && served.stable === 100 - percent ? { do: 'confirm' } : { do: 'shift' };
}

/** A rollback moves traffic only when something other than stable still serves. */
export const rollbackNeeded = (served: Split): boolean => served.canary !== 0 || served.other !== 0;

/**
 * Whether an abort must first read the split served: once the cutover is past its scheduled T0 the
 * bot may have moved traffic, even if the state (after lost writes) says otherwise. Before T0 the
 * canary may not even be deployed; reading the service then would only stand in the way.
 */
export const abortReadsServed = (state: Pick<CutoverState, 'phase'>): boolean => state.phase !== 'scheduled' && !isTerminal(state.phase);

/** Errors that no retry will cure: the rollback ends as failed at once instead of retrying. */
const HOPELESS: ReadonlySet<string> = new Set(['permission_denied', 'not_found', 'invalid']);

export const rollbackGivesUp = (code: string, lastAttempt: boolean): boolean => lastAttempt || HOPELESS.has(code);

/** Gates run at a moment with no cohort soaking (preflight, a checkpoint) look back this far (seed 002 judges 10-minute windows). */
export const LOOKBACK_MS = 10 * 60_000;

export const lookbackWindow = (now: number) => ({ start: now - LOOKBACK_MS, end: now });

/**
 * The window a stage-gate check judges: the soak so far; in hypercare, only the time since the
 * previous check, so a late regression is not diluted by days of good traffic.
 */
export function checkWindow(plan: Plan, state: CutoverState, now: number): { start: number; end: number } {
  if (state.phase === 'hypercare' && plan.hypercare) return { start: Math.max(state.phaseSince, now - plan.hypercare.checkEveryMs), end: now };
  return { start: state.soak?.startedAt ?? state.phaseSince, end: now };
}
