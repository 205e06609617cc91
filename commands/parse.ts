// Slash command text -> a typed request, or what is wrong with it and the usage to show. Pure.
// Plan names and revisions are checked against strict patterns before they reach anything else.
import { z } from 'zod';
import { PLAN_NAME } from '../src/domain/plan.ts';
import type { UsageKey } from '../templates/replies.ts';
import { parseWhen, type When } from './when.ts';

export type Request =
  | { readonly kind: 'start'; readonly plan: string; readonly canary?: string; readonly stable?: string }
  /** `when` is resolved against the plan's time zone once the plan is loaded. */
  | { readonly kind: 'schedule'; readonly plan: string; readonly when: When; readonly canary?: string; readonly stable?: string }
  | { readonly kind: 'status' | 'resume' | 'promote'; readonly plan?: string }
  /** The first word may name a plan; which one it is depends on the plans there are (see splitPlanAndReason). */
  | { readonly kind: 'hold' | 'abort' | 'rollback' | 'close'; readonly words: readonly string[] }
  | { readonly kind: 'plans' | 'help' };

export type Parsed = { readonly ok: true; readonly request: Request } | { readonly ok: false; readonly problem: string; readonly usage: UsageKey };

const MAX_REASON = 500;

const shown = (token: string) => JSON.stringify(token.length > 60 ? `${token.slice(0, 59)}…` : token);

const planName = z.string().regex(PLAN_NAME);
/** Cloud Run's rule for revision names: lowercase letters, digits and "-", starting with a letter. */
const revision = z.string().regex(/^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
const reason = z.string().max(MAX_REASON);

const tokens = (text: string): string[] => text.trim().split(/\s+/).filter(Boolean);

const fail = (problem: string, usage: UsageKey): Parsed => ({ ok: false, problem, usage });

const notPlanName = (plan: string, usage: UsageKey): Parsed => fail(`${shown(plan)} is not a plan name: plan names are lowercase letters, digits and "-".`, usage);

function optionalPlan(kind: 'status' | 'resume' | 'promote', words: readonly string[], usage: UsageKey): Parsed {
  if (words.length > 1) return fail(`Too many words: ${usage === 'promote' ? '/promote' : `/cutover ${kind}`} takes at most a plan name.`, usage);
  const [plan] = words;
  if (plan === undefined) return { ok: true, request: { kind } };
  if (!planName.safeParse(plan).success) return notPlanName(plan, usage);
  return { ok: true, request: { kind, plan } };
}

function withReason(kind: 'hold' | 'abort' | 'rollback' | 'close', words: readonly string[], usage: UsageKey): Parsed {
  if (!reason.safeParse(words.join(' ')).success) return fail(`The reason is too long (at most ${MAX_REASON} characters).`, usage);
  return { ok: true, request: { kind, words } };
}

type Revisions = { canary?: string; stable?: string };

/** `canary=<revision>` and `stable=<revision>`, each at most once. */
function revisionOptions(options: readonly string[], usage: 'start' | 'schedule', after: string): { ok: true; revisions: Revisions } | Extract<Parsed, { ok: false }> {
  const revisions: Revisions = {};
  for (const option of options) {
    const match = /^(canary|stable)=(.*)$/.exec(option);
    if (!match) return { ok: false, problem: `${shown(option)} is not an option: only canary=<revision> and stable=<revision> follow ${after}.`, usage };
    const key = match[1] as 'canary' | 'stable';
    const value = match[2] as string;
    if (revisions[key] !== undefined) return { ok: false, problem: `${key}= is given twice.`, usage };
    if (!revision.safeParse(value).success) return { ok: false, problem: `${key}=${shown(value)} is not a revision name: lowercase letters, digits and "-", starting with a letter.`, usage };
    revisions[key] = value;
  }
  if (revisions.canary !== undefined && revisions.canary === revisions.stable) return { ok: false, problem: 'canary= and stable= name the same revision.', usage };
  return { ok: true, revisions };
}

function start(words: readonly string[]): Parsed {
  const [plan, ...options] = words;
  if (plan === undefined) return fail('Name the plan to start.', 'start');
  if (!planName.safeParse(plan).success) return notPlanName(plan, 'start');
  const revisions = revisionOptions(options, 'start', 'the plan name');
  if (!revisions.ok) return revisions;
  return { ok: true, request: { kind: 'start', plan, ...revisions.revisions } };
}

/** `schedule <plan> at <time> [canary=…] [stable=…]` */
function schedule(words: readonly string[]): Parsed {
  const [plan, at, time, ...options] = words;
  if (plan === undefined) return fail('Name the plan to schedule.', 'schedule');
  if (!planName.safeParse(plan).success) return notPlanName(plan, 'schedule');
  if (at?.toLowerCase() !== 'at' || time === undefined) return fail('Say when T0 is: /cutover schedule <plan> at <time>.', 'schedule');
  const when = parseWhen(time);
  if (!when.ok) return fail(when.problem, 'schedule');
  const revisions = revisionOptions(options, 'schedule', 'the time');
  if (!revisions.ok) return revisions;
  return { ok: true, request: { kind: 'schedule', plan, when: when.when, ...revisions.revisions } };
}

/** `/cutover <subcommand> …` */
export function parseCutover(text: string): Parsed {
  const [sub, ...words] = tokens(text);
  switch (sub?.toLowerCase()) {
    case undefined:
    case 'help':
      return words.length ? fail('/cutover help takes nothing after it.', 'help') : { ok: true, request: { kind: 'help' } };
    case 'plans':
      return words.length ? fail('/cutover plans takes nothing after it.', 'plans') : { ok: true, request: { kind: 'plans' } };
    case 'start':
      return start(words);
    case 'schedule':
      return schedule(words);
    case 'status':
      return optionalPlan('status', words, 'status');
    case 'resume':
      return optionalPlan('resume', words, 'resume');
    case 'hold':
      return withReason('hold', words, 'hold');
    case 'abort':
      return withReason('abort', words, 'abort');
    case 'close':
      return withReason('close', words, 'close');
    default:
      return fail(`${shown(sub ?? '')} is not a /cutover command: use start, schedule, status, hold, resume, abort, close, plans or help.`, 'help');
  }
}

/** `/promote [<plan>]` */
export const parsePromote = (text: string): Parsed => optionalPlan('promote', tokens(text), 'promote');

/** `/rollback [<plan>] [reason…]` */
export const parseRollback = (text: string): Parsed => withReason('rollback', tokens(text), 'rollback');

/**
 * `hold payments db is slow` names plan "payments" when there is such a plan; otherwise the whole
 * text is the reason (the plan then being the one running in the channel).
 */
export function splitPlanAndReason(words: readonly string[], isPlan: (name: string) => boolean): { plan?: string; reason?: string } {
  const [first, ...rest] = words;
  const named = first !== undefined && planName.safeParse(first).success && isPlan(first);
  const reasonWords = named ? rest : words;
  return { ...(named ? { plan: first } : {}), ...(reasonWords.length ? { reason: reasonWords.join(' ') } : {}) };
}
