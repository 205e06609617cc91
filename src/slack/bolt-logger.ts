// Bolt and the WebClient log through the bot's pino logger, so their lines get the same secret
// scrubbing (tokens, the signing secret) as everything else.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../log.ts';

const words = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ');

export function boltLogger(log: Logger): BoltLogger {
  let child = log.child({ component: 'slack' });
  // Bolt may ask for a level; what is written is decided by the bot's LOG_LEVEL alone.
  let level = LogLevel.INFO;
  return {
    debug: (...msg: unknown[]) => child.debug(words(msg)),
    info: (...msg: unknown[]) => child.info(words(msg)),
    warn: (...msg: unknown[]) => child.warn(words(msg)),
    error: (...msg: unknown[]) => child.error(words(msg)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: (name: string) => {
      child = log.child({ component: name });
    },
  };
}
