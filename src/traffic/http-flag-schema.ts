// The `service:` block of a feature-flag cutover (seed 003: POST {"value": N} to
// ${FEATURE_FLAG_API}/flags/canary-percentage with a bearer token).
import { z } from 'zod';
import { unknownKeys } from '../gates/unknown-keys.ts';
import { durationSchema } from '../plans/duration.ts';

const PERCENT_PLACEHOLDER = '{percent}';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

const containsPlaceholder = (value: Json): boolean => {
  if (typeof value === 'string') return value.includes(PERCENT_PLACEHOLDER);
  if (Array.isArray(value)) return value.some(containsPlaceholder);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsPlaceholder);
  return false;
};

const httpUrl = (what: string) =>
  z
    .string({ error: `${what} is required, e.g. https://flags.example/flags/canary-percentage` })
    .refine((text) => {
      try {
        const url = new URL(text);
        return url.protocol === 'https:' || url.protocol === 'http:';
      } catch {
        return false;
      }
    }, `${what} must be an http(s) URL, e.g. https://flags.example/flags/canary-percentage`);

export const httpFlagServiceSchema = z.strictObject(
  {
    platform: z.literal('http-flag', { error: 'platform must be "http-flag"' }),
    name: z.string({ error: 'name is required: what the flag switches, e.g. pags-canary' }).min(1, 'name must not be empty'),
    url: httpUrl('url'),
    token_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'token_env must name an environment variable, e.g. FEATURE_FLAG_API_KEY (the token itself never goes in a plan)')
      .optional(),
    body: json
      .refine(containsPlaceholder, `body must contain the "${PERCENT_PLACEHOLDER}" placeholder, e.g. {"value": "${PERCENT_PLACEHOLDER}"}`)
      .default({ value: PERCENT_PLACEHOLDER }),
    read: z
      .strictObject(
        {
          url: httpUrl('read.url').optional(),
          path: z
            .string()
            .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'read.path must be a dot path into the JSON answer, e.g. value or data.percentage')
            .default('value'),
        },
        { error: unknownKeys('read', 'url, path') },
      )
      .default({ path: 'value' }),
    stable: z.string().min(1, 'stable must not be empty').default('stable'),
    canary: z.string().min(1, 'canary must not be empty').default('canary'),
    timeout: durationSchema.refine((ms) => ms > 0, 'timeout must be longer than 0s').default(10_000),
  },
  { error: unknownKeys('an http-flag service block', 'platform, name, url, token_env, body, read, stable, canary, timeout') },
);

export type HttpFlagService = z.infer<typeof httpFlagServiceSchema>;

/** The body to send for `percent`: "{percent}" alone becomes the number, inside text it is replaced. */
export function renderBody(template: Json, percent: number): Json {
  if (typeof template === 'string') {
    return template === PERCENT_PLACEHOLDER ? percent : template.split(PERCENT_PLACEHOLDER).join(String(percent));
  }
  if (Array.isArray(template)) return template.map((item) => renderBody(item, percent));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderBody(v, percent)]));
  }
  return template;
}

/** The value at a dot path of a parsed JSON answer. */
export function valueAt(document: unknown, path: string): unknown {
  let node = document;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(part)] : (node as Record<string, unknown>)[part];
  }
  return node;
}
