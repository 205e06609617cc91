// The bot's configuration: the environment, validated once at start-up into a frozen object.
// Every problem is reported on a line of its own, and no line ever repeats a value: a token put
// in the wrong variable must not end up in a terminal or a log.
import { z } from 'zod';
import { DURATION_HINT, parseDuration } from './domain/duration.ts';
import { registerSecret } from './log.ts';

/** What one process runs: everything (the default), only the Slack side, or only the workers. */
export type Role = 'all' | 'web' | 'worker';

export interface Config {
  readonly slack: {
    readonly botToken: string;
    readonly signingSecret: string;
    /** Set: Socket Mode (no public URL needed). */
    readonly appToken: string | null;
    /** Base URL of Slack's Web API, for a local Slack emulator; null: Slack's own. */
    readonly apiUrl: string | null;
  };
  /** null: the embedded redis-server. */
  readonly redisUrl: string | null;
  /** Namespace of every Redis key: bots sharing a Redis with different prefixes never meet. */
  readonly redisPrefix: string;
  readonly plansDir: string;
  readonly evidenceDir: string;
  /** HTTP port of /slack/events, /healthz and /readyz; 0 picks a free one. */
  readonly port: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /**
   * `all`: Slack receiver and workers in one process. `web`: the Slack receiver (commands acked
   * and queued), probes and metrics; no workers. `worker`: the workers, probes and metrics; no Slack receiver.
   */
  readonly role: Role;
  /** A command or click whose job starts later than this after it came in is not run (rollbacks are). */
  readonly commandTtlMs: number;
  /** The queue dashboard at /admin/queues: off (null) unless a password is set. */
  readonly admin: { readonly password: string; readonly write: boolean } | null;
}

export type ConfigResult = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly problems: readonly string[] };

/** An empty variable is an unset one (`FOO=` in a .env file). */
const unsetIfBlank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfBlank, schema.optional());
const required = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfBlank, schema);

const schema = z.object({
  SLACK_BOT_TOKEN: required(
    z
      .string({ error: "is required: the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page" })
      .regex(/^xoxb-\S+$/, { error: 'must be a bot token starting with xoxb- (OAuth & Permissions)' }),
  ),
  SLACK_SIGNING_SECRET: required(
    z
      .string({ error: "is required: the Signing Secret from the app's Basic Information page" })
      .regex(/^\S{8,}$/, { error: 'must be the Signing Secret from Basic Information (no spaces, at least 8 characters)' }),
  ),
  SLACK_APP_TOKEN: optional(z.string().regex(/^xapp-\S+$/, { error: 'must be an app-level token starting with xapp- (Basic Information, App-Level Tokens); only for Socket Mode' })),
  SLACK_API_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://slack.com/api/' })),
  REDIS_URL: optional(z.string().regex(/^rediss?:\/\/\S+$/, { error: 'must be a redis:// or rediss:// URL (leave it unset for the embedded redis-server)' })),
  REDIS_PREFIX: optional(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, { error: 'must be 1 to 40 letters, digits, "_" or "-"' })),
  PLANS_DIR: optional(z.string()),
  EVIDENCE_DIR: optional(z.string()),
  PORT: optional(z.coerce.number({ error: 'must be a port number' }).int({ error: 'must be a whole port number' }).min(0, { error: 'must be 0 to 65535' }).max(65535, { error: 'must be 0 to 65535' })),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { error: 'must be one of fatal, error, warn, info, debug, trace' })),
  ROLE: optional(z.enum(['all', 'web', 'worker'], { error: 'must be all (the default), web or worker' })),
  COMMAND_TTL: optional(
    z
      .string()
      .transform((text, ctx) => {
        const ms = parseDuration(text);
        if (ms === null) ctx.addIssue({ code: 'custom', message: `${DURATION_HINT} (default 30s)` });
        else if (ms < 1_000 || ms > 30 * 60_000) ctx.addIssue({ code: 'custom', message: 'must be from 1s to 30m (a reply can reach the person for 30 minutes)' });
        return ms ?? 0;
      }),
  ),
  ADMIN_PASSWORD: optional(z.string().min(12, { error: 'must be at least 12 characters (it guards the queue dashboard)' })),
  ADMIN_QUEUES_WRITE: optional(z.enum(['true', 'false'], { error: 'must be true or false' })),
});

export const DEFAULT_PLANS_DIR = './plans';

/** Every variable the bot reads from its environment (documented in README and .env.example). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export function loadConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  // Registered before anything can log, whether or not the rest is valid.
  for (const key of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'ADMIN_PASSWORD'] as const) registerSecret(env[key]?.trim());
  const parsed = schema.safeParse(env);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) };
  const raw = parsed.data;
  const apiUrl = raw.SLACK_API_URL ? (raw.SLACK_API_URL.endsWith('/') ? raw.SLACK_API_URL : `${raw.SLACK_API_URL}/`) : null;
  return {
    ok: true,
    config: Object.freeze({
      slack: Object.freeze({ botToken: raw.SLACK_BOT_TOKEN, signingSecret: raw.SLACK_SIGNING_SECRET, appToken: raw.SLACK_APP_TOKEN ?? null, apiUrl }),
      redisUrl: raw.REDIS_URL ?? null,
      redisPrefix: raw.REDIS_PREFIX ?? 'cutover',
      plansDir: raw.PLANS_DIR ?? DEFAULT_PLANS_DIR,
      evidenceDir: raw.EVIDENCE_DIR ?? './evidence',
      port: raw.PORT ?? 3000,
      logLevel: raw.LOG_LEVEL ?? 'info',
      role: raw.ROLE ?? 'all',
      commandTtlMs: raw.COMMAND_TTL ?? 30_000,
      admin: raw.ADMIN_PASSWORD ? Object.freeze({ password: raw.ADMIN_PASSWORD, write: raw.ADMIN_QUEUES_WRITE === 'true' }) : null,
    }),
  };
}
