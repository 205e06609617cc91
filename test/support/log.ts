// A logger that says nothing: tests assert on what the bot does, not on its log lines.
import pino from 'pino';
import type { Logger } from '../../src/log.ts';

export const silentLogger = (): Logger => pino({ level: 'silent' });
