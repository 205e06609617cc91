// How old a command or click may be when its job starts. Slack's requests are acked at once and
// their work queued; a job that only starts long after (the bot was down, Redis was away, every
// worker was busy) must not act by surprise minutes later. Pure: the command processor asks.
//
// Past its time to live, a command does nothing and the person is told why. Two exceptions:
// - a rollback (`/rollback`, the card's Roll back): a late rollback is still wanted (whoever asked
//   for it saw something wrong, and waiting longer does not make the canary better), so it is
//   carried out and the reply says it was late;
// - a question (`help`, `plans`, `status`): it changes nothing, so it is answered, saying it was late.
import type { Work } from './common.ts';

/** Default time to live of a command or click: a person waits seconds for an answer, not minutes. */
export const DEFAULT_COMMAND_TTL_MS = 30_000;

/** How long Slack accepts replies on a request's response_url (5 of them within 30 minutes). */
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

export type Freshness =
  | { readonly run: true; readonly ageMs: number; readonly late: false }
  /** Past its time to live, run anyway: a rollback or a question. */
  | { readonly run: true; readonly ageMs: number; readonly late: true }
  | { readonly run: false; readonly ageMs: number };

const QUESTIONS: ReadonlySet<string> = new Set(['help', 'plans', 'status']);

/** Whether the work asks for a rollback. */
export function isRollback(work: Work): boolean {
  return work.kind === 'slash' ? work.request.kind === 'rollback' : work.action === 'rollback';
}

/** Whether the work only asks and changes nothing. */
function isQuestion(work: Work): boolean {
  return work.kind === 'slash' && QUESTIONS.has(work.request.kind);
}

/** Whether work received at `receivedAt` may still run at `now`. */
export function freshness(work: Work, receivedAt: number, now: number, ttlMs: number): Freshness {
  const ageMs = Math.max(0, now - receivedAt);
  if (ageMs <= ttlMs) return { run: true, ageMs, late: false };
  if (isRollback(work) || isQuestion(work)) return { run: true, ageMs, late: true };
  return { run: false, ageMs };
}

/** Where the answer can still reach the person: the request's response_url, or only the channel. */
export const replyRoute = (receivedAt: number, now: number): 'response_url' | 'channel' => (now - receivedAt < RESPONSE_URL_TTL_MS ? 'response_url' : 'channel');

/** How the person would name what they sent: `/cutover start`, `/rollback`, the Approve button. */
export function describeWork(work: Work): string {
  if (work.kind === 'click') {
    const label = work.action.replace(/_/g, ' ');
    return `your ${label.charAt(0).toUpperCase()}${label.slice(1)} click`;
  }
  return work.command === `/${work.request.kind}` ? work.command : `${work.command} ${work.request.kind}`;
}
