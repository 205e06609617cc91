// Settings of a `cloud_logging:` gate. Three modes, told apart by their keys:
//   ratio    { numerator: <filter>, denominator: <filter>, max: 0..1 }
//   count    { filter: <filter>, max: <integer> }
//   presence { present: <filter>, min: <integer, default 1> }
// plus `project` (default: the Cloud Run service's) and `revision: canary | stable | any`.
import { z } from 'zod';
import { projectIdSchema } from './gcp-common.ts';
import { unknownKeys } from './unknown-keys.ts';

export type RevisionScope = 'canary' | 'stable' | 'any';

interface Common {
  readonly project?: string;
  /** Unset: canary when the service is on Cloud Run, else any. */
  readonly revision?: RevisionScope;
}

export type CloudLoggingSpec =
  | (Common & { readonly mode: 'ratio'; readonly numerator: string; readonly denominator: string; readonly max: number })
  | (Common & { readonly mode: 'count'; readonly filter: string; readonly max: number })
  | (Common & { readonly mode: 'presence'; readonly present: string; readonly min: number });

const MODES_HELP =
  'cloud_logging needs one of: numerator + denominator + max (a ratio), filter + max (a count), or present (+ min) (events that must appear)';

const filterText = (key: string) =>
  z
    .string({ error: `${key} must be a Cloud Logging filter, e.g. jsonPayload.event="auth.verify.completed"` })
    .trim()
    .min(1, `${key} must not be empty`)
    .refine((text) => !/(^|[\s(-])timestamp\s*[<>=!:]/.test(text), `${key} must not mention timestamp: the gate bounds every query to the soak window itself`);

const raw = z.strictObject(
  {
    numerator: filterText('numerator').optional(),
    denominator: filterText('denominator').optional(),
    filter: filterText('filter').optional(),
    present: filterText('present').optional(),
    max: z.number({ error: 'max must be a number' }).min(0, 'max must not be negative').optional(),
    min: z.number({ error: 'min must be a number' }).int('min must be a whole number').min(1, 'min must be at least 1').optional(),
    project: projectIdSchema.optional(),
    revision: z.enum(['canary', 'stable', 'any'], { error: 'revision must be canary, stable or any' }).optional(),
  },
  { error: unknownKeys('cloud_logging', 'numerator, denominator, filter, present, max, min, project, revision') },
);

export const cloudLoggingSchema: z.ZodType<CloudLoggingSpec> = raw.transform((s, ctx): CloudLoggingSpec => {
  const fail = (message: string, path: string[] = []) => {
    ctx.addIssue({ code: 'custom', message, path });
    return z.NEVER;
  };
  const common: Common = { ...(s.project ? { project: s.project } : {}), ...(s.revision ? { revision: s.revision } : {}) };
  const ratio = s.numerator !== undefined || s.denominator !== undefined;
  const modes = [ratio, s.filter !== undefined, s.present !== undefined].filter(Boolean).length;
  if (modes === 0) return fail(MODES_HELP);
  if (modes > 1) return fail(`use only one mode: ${MODES_HELP}`);
  if (ratio) {
    if (s.numerator === undefined) return fail('a ratio needs numerator (the filter for the bad events)', ['numerator']);
    if (s.denominator === undefined) return fail('a ratio needs denominator (the filter for all events)', ['denominator']);
    if (s.max === undefined) return fail('a ratio needs max, a fraction from 0 to 1 (e.g. 0.01 for 1 %)', ['max']);
    if (s.max > 1) return fail('max of a ratio is a fraction from 0 to 1 (e.g. 0.01 for 1 %)', ['max']);
    if (s.min !== undefined) return fail('min belongs to present, not to a ratio', ['min']);
    return { mode: 'ratio', numerator: s.numerator, denominator: s.denominator, max: s.max, ...common };
  }
  if (s.filter !== undefined) {
    if (s.max === undefined) return fail('a count needs max, the most matching entries allowed', ['max']);
    if (!Number.isInteger(s.max)) return fail('max of a count must be a whole number', ['max']);
    if (s.min !== undefined) return fail('min belongs to present, not to a count', ['min']);
    return { mode: 'count', filter: s.filter, max: s.max, ...common };
  }
  if (s.max !== undefined) return fail('present takes min (at least this many entries), not max', ['max']);
  return { mode: 'presence', present: s.present!, min: s.min ?? 1, ...common };
});
