// What every slash command's parser shares: text -> words, plan names and revisions checked
// against strict patterns before they reach anything else, a reason's length, and the refusal with
// the usage to show. Pure.
import { z } from 'zod';
import { PLAN_NAME, TARGET_ID } from '../src/domain/plan.ts';
import type { UsageKey } from '../templates/replies.ts';

/** A command's text, read: its typed request, or what is wrong with it and the usage to show. */
export type Parsed<R = unknown> = { readonly ok: true; readonly request: R } | { readonly ok: false; readonly problem: string; readonly usage: UsageKey };

const MAX_REASON = 500;

export const shown = (token: string) => JSON.stringify(token.length > 60 ? `${token.slice(0, 59)}…` : token);

export const planName = z.string().regex(PLAN_NAME);
/** Cloud Run's rule for revision names: lowercase letters, digits and "-", starting with a letter. */
const revision = z.string().regex(/^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
const reason = z.string().max(MAX_REASON);

export const tokens = (text: string): string[] => text.trim().split(/\s+/).filter(Boolean);

export const fail = (problem: string, usage: UsageKey): Extract<Parsed, { ok: false }> => ({ ok: false, problem, usage });

export const notPlanName = (plan: string, usage: UsageKey): Extract<Parsed, { ok: false }> => fail(`${shown(plan)} is not a plan name: plan names are lowercase letters, digits and "-".`, usage);

/** A command that may name a plan, and nothing else. */
export function optionalPlan<K extends string>(kind: K, words: readonly string[], usage: UsageKey): Parsed<{ readonly kind: K; readonly plan?: string }> {
  if (words.length > 1) return fail(`Too many words: ${usage === 'promote' ? '/promote' : `/cutover ${kind}`} takes at most a plan name.`, usage);
  const [plan] = words;
  if (plan === undefined) return { ok: true, request: { kind } };
  if (!planName.safeParse(plan).success) return notPlanName(plan, usage);
  return { ok: true, request: { kind, plan } };
}

/** A command whose words are a reason, the first of them perhaps a plan's name (see splitPlanAndReason). */
export function withReason<K extends string>(kind: K, words: readonly string[], usage: UsageKey): Parsed<{ readonly kind: K; readonly words: readonly string[] }> {
  if (!reason.safeParse(words.join(' ')).success) return fail(`The reason is too long (at most ${MAX_REASON} characters).`, usage);
  return { ok: true, request: { kind, words } };
}

/** A train target as typed: its id (`api-europe-west1`) or its index (`1`); the train's own ids are checked once its plan is known. */
const targetWord = z.string().regex(TARGET_ID);

/**
 * `/rollback`'s words: an optional plan, an optional `target=<id or index>` right after it (or
 * first, with no plan), and a reason. A bare target id right after the plan is recognised later,
 * once the cutover's plan (and so its targets) is known.
 */
export function rollbackWords(words: readonly string[]): Parsed<{ readonly kind: 'rollback'; readonly words: readonly string[]; readonly target?: string }> {
  const at = words.slice(0, 2).findIndex((w) => /^target=/i.test(w));
  if (at < 0) return withReason('rollback', words, 'rollback');
  const given = words[at]!.slice('target='.length);
  if (words.slice(at + 1, 2).some((w) => /^target=/i.test(w))) return fail('target= is given twice.', 'rollback');
  if (at === 1 && !planName.safeParse(words[0]).success) return notPlanName(words[0]!, 'rollback');
  if (!targetWord.safeParse(given).success) return fail(`target=${shown(given)} is not a target: give its id (like api-europe-west1) or its index (0, 1, …).`, 'rollback');
  const rest = words.filter((_w, i) => i !== at);
  const parsed = withReason('rollback', rest, 'rollback');
  return parsed.ok ? { ok: true, request: { ...parsed.request, target: given } } : parsed;
}

export type Revisions = { canary?: string; stable?: string };

/** `canary=<revision>` and `stable=<revision>`, each at most once. */
export function revisionOptions(options: readonly string[], usage: 'start' | 'schedule', after: string): { ok: true; revisions: Revisions } | Extract<Parsed, { ok: false }> {
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
