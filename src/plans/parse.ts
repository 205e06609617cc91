// Turning plan text into a Plan, with every problem reported as `path: what is wrong`.
import { parseDocument, YAMLError, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import type { Plan } from '../domain/plan.ts';
import { buildPlanSchema, planErrorMap, type PlanVocabulary } from './schema.ts';

export type PlanResult = { readonly ok: true; readonly plan: Plan } | { readonly ok: false; readonly errors: readonly string[] };

/** Plans are small; anything bigger is a mistake or an attack. */
export const MAX_PLAN_BYTES = 256 * 1024;

/**
 * The YAML parser recurses once per level of `[ ]` and `{ }` nesting, on the main thread: a file of
 * tens of thousands of brackets takes seconds to refuse, and the bot answers nobody meanwhile. A plan
 * has a few dozen; counting them all (quoted or not) bounds the nesting whatever the file hides.
 */
const MAX_PLAN_BRACKETS = 2_000;

function brackets(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) count++;
  }
  return count;
}

/** `line 3, column 7: what`, without the location the library repeats at the end. */
function located(error: YAMLError): string {
  const where = error.linePos?.[0] ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}` : 'YAML';
  const what = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  const hint = error.code === 'TAG_RESOLVE_FAILED' ? ' (a plan is plain YAML: tags such as !include or !!js/function are not read)' : '';
  return `${where}: ${what}${hint}`;
}

const schemas = new WeakMap<PlanVocabulary, ReturnType<typeof buildPlanSchema>>();

function schemaFor(vocabulary: PlanVocabulary) {
  let schema = schemas.get(vocabulary);
  if (!schema) {
    schema = buildPlanSchema(vocabulary);
    schemas.set(vocabulary, schema);
  }
  return schema;
}

/** `stages[2].soak`, `gates.preflight[0].http.url`; the empty path is the plan itself. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(plan)';
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines = issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  return [...new Set(lines)];
}

/** Validates an already-parsed document (YAML or JSON). */
export function parsePlanDocument(document: unknown, vocabulary: PlanVocabulary): PlanResult {
  const result = schemaFor(vocabulary).safeParse(document, { error: planErrorMap });
  if (result.success) return { ok: true, plan: result.data };
  return { ok: false, errors: formatIssues(result.error.issues) };
}

export function parsePlanText(text: string, vocabulary: PlanVocabulary): PlanResult {
  if (Buffer.byteLength(text) > MAX_PLAN_BYTES) {
    return { ok: false, errors: [`(plan): the file is larger than ${MAX_PLAN_BYTES / 1024} KiB; a plan is a short YAML file`] };
  }
  const count = brackets(text);
  if (count > MAX_PLAN_BRACKETS) {
    return { ok: false, errors: [`(plan): ${count} [ and { brackets, more than the ${MAX_PLAN_BRACKETS} a plan could ever need; refused without parsing`] };
  }
  let document: unknown;
  try {
    // Warnings (an unknown tag, say) are refusals too, and nothing is printed past the logger.
    const parsed = parseDocument(text, { uniqueKeys: true, prettyErrors: true, logLevel: 'error' });
    const problem = parsed.errors[0] ?? parsed.warnings[0];
    if (problem) return { ok: false, errors: [located(problem)] };
    // Few aliases are needed in a plan; many is an alias bomb.
    document = parsed.toJS({ maxAliasCount: 50 });
  } catch (error) {
    if (error instanceof YAMLParseError) return { ok: false, errors: [located(error)] };
    if (error instanceof RangeError) return { ok: false, errors: ['(plan): the YAML is nested too deeply to be a plan'] };
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { ok: false, errors: [`(plan): not valid YAML: ${message}`] };
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { ok: false, errors: [`(plan): must be a YAML mapping with name, service, channel, stages, gates… (got ${Array.isArray(document) ? 'list' : document === null ? 'nothing' : typeof document})`] };
  }
  return parsePlanDocument(document, vocabulary);
}
