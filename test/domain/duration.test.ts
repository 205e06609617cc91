import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/domain/duration.ts';
import { durationSchema } from '../../src/plans/duration.ts';

// src/domain/duration.ts is the engine's (same file as on main); these pin what the adapters rely on.
describe('durations', () => {
  it.each([
    ['90s', 90_000], ['10m', 600_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['500ms', 500], [' 2m ', 120_000], ['1d', 86_400_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', 'm', '10 m', '1h 30m', '-5s', '5x', '1h30'])('rejects %j', (text) => expect(parseDuration(text)).toBeNull());

  it.each([[90_000, '1m30s'], [3_600_000, '1h'], [250, '250ms'], [600_000, '10m'], [5_400_000, '1h30m']])('formats %d as %s', (ms, text) =>
    expect(formatDuration(ms)).toBe(text),
  );

  it('the schema turns text into ms and explains bad input', () => {
    expect(durationSchema.parse('60s')).toBe(60_000);
    const bad = durationSchema.safeParse('soon');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('must be a duration like 90s, 10m or 1h');
    expect(durationSchema.safeParse(60).error?.issues[0]?.message).toBe('must be a duration like 90s, 10m or 1h');
  });
});
