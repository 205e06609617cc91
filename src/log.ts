// One pino logger for the process. Secrets are redacted by key wherever they appear, and the
// known secret values are scrubbed from strings too, so a token pasted into an error message
// still never reaches a log line.
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', '*.appToken',
  'signingSecret', '*.signingSecret', 'authorization', '*.authorization', '*.Authorization',
  'headers.authorization', '*.headers.authorization', 'headers.Authorization', '*.headers.Authorization',
];

const secrets = new Set<string>();

/** Registers a secret value (a token, a signing secret) to be scrubbed from every log line. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) secrets.add(value);
}

export function scrub(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out.replace(/(bearer\s+)[A-Za-z0-9._~+\/=-]{6,}/gi, '$1[redacted]');
}

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'cutover-bot',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: {
        // Scrub secret values out of the message and any string argument.
        logMethod(args, method) {
          const cleaned = args.map((a) => (typeof a === 'string' ? scrub(a) : a));
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
      formatters: {
        log(object) {
          return JSON.parse(scrub(JSON.stringify(object))) as Record<string, unknown>;
        },
      },
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}
