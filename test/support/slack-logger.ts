// A Logger for Bolt and the WebClient that keeps lines in memory instead of printing them:
// quiet test output, and tests can assert on what Bolt logged (e.g. why it refused a request).
import { LogLevel, type Logger } from '@slack/bolt';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  text: string;
}

export interface RecordingLogger extends Logger {
  readonly lines: LogLine[];
}

export function recordingLogger(): RecordingLogger {
  let level: LogLevel = LogLevel.DEBUG;
  const lines: LogLine[] = [];
  const keep =
    (lineLevel: LogLine['level']) =>
    (...msg: unknown[]): void => {
      lines.push({ level: lineLevel, text: msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ') });
    };
  return {
    lines,
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
