// `/cutover schedule … at <time>`: T0 from a zoned ISO time or HH:MM in the plan's time zone,
// across daylight-saving changes (Europe/Berlin: 2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00).
import { describe, expect, it } from 'vitest';
import { MAX_AHEAD_MS, parseWhen, resolveT0, type When } from '../../commands/when.ts';
import { instantsOf, offsetMinutes, zonedText } from '../../src/domain/zone.ts';

const when = (text: string): When => {
  const parsed = parseWhen(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.when;
};
const iso = (ms: number) => new Date(ms).toISOString();
const BERLIN = 'Europe/Berlin';

describe('parseWhen', () => {
  it.each([
    ['2026-11-24T14:00Z', Date.UTC(2026, 10, 24, 14, 0)],
    ['2026-11-24T14:00:30Z', Date.UTC(2026, 10, 24, 14, 0, 30)],
    ['2026-11-24T15:00+01:00', Date.UTC(2026, 10, 24, 14, 0)],
    ['2026-11-24T10:30-03:30', Date.UTC(2026, 10, 24, 14, 0)],
    ['2026-11-24t14:00z', Date.UTC(2026, 10, 24, 14, 0)],
  ])('%s is an instant', (text, ms) => {
    expect(parseWhen(text)).toEqual({ ok: true, when: { kind: 'instant', ms, text } });
  });

  it('HH:MM is a wall-clock time for the plan’s zone', () => {
    expect(parseWhen('9:05')).toEqual({ ok: true, when: { kind: 'wall', hour: 9, minute: 5, text: '9:05' } });
    expect(parseWhen('23:59')).toMatchObject({ ok: true, when: { hour: 23, minute: 59 } });
  });

  it.each([
    ['24:00', 'is not a time of day'],
    ['12:60', 'is not a time of day'],
    ['2026-11-24T14:00', 'has no time zone: add Z for UTC (2026-11-24T14:00Z)'],
    ['2026-02-30T14:00Z', 'is not a valid date and time'],
    ['2026-11-24T24:00Z', 'is not a valid date and time'],
    ['2026-11-24T14:00+15:00', 'is not a UTC offset'],
    ['tomorrow', '"tomorrow" is not a time: give a UTC time like 2026-11-24T14:00Z'],
    ['1700000000', 'is not a time'],
  ])('%s is refused', (text, problem) => {
    const parsed = parseWhen(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });
});

describe('resolveT0', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0);

  it('an instant must be ahead, and at most 30 days ahead', () => {
    expect(resolveT0(when('2026-11-24T14:00Z'), BERLIN, now)).toEqual({ ok: true, t0: Date.UTC(2026, 10, 24, 14, 0) });
    expect(resolveT0(when('2026-11-23T11:59Z'), BERLIN, now)).toEqual({ ok: false, problem: '2026-11-23T11:59Z is in the past (it is now 2026-11-23 12:00 UTC): T0 must be ahead. To start now, use /cutover start.' });
    expect(resolveT0(when('2026-11-23T12:00Z'), BERLIN, now).ok).toBe(false);
    expect(resolveT0({ kind: 'instant', ms: now + MAX_AHEAD_MS, text: 'edge' }, BERLIN, now).ok).toBe(true);
    expect(resolveT0(when('2026-12-24T12:01Z'), BERLIN, now)).toMatchObject({ ok: false, problem: expect.stringContaining('is more than 30d ahead') });
  });

  it('HH:MM is the next such time in the plan’s zone: today if still ahead, else tomorrow', () => {
    // 12:00 UTC is 13:00 in Berlin (CET, UTC+01:00).
    expect(iso((resolveT0(when('14:00'), BERLIN, now) as { t0: number }).t0)).toBe('2026-11-23T13:00:00.000Z');
    expect(iso((resolveT0(when('13:00'), BERLIN, now) as { t0: number }).t0)).toBe('2026-11-24T12:00:00.000Z');
    expect(iso((resolveT0(when('00:30'), 'UTC', now) as { t0: number }).t0)).toBe('2026-11-24T00:30:00.000Z');
    // Across midnight in the zone, not in UTC: 23:30 UTC is already the next day in Tokyo.
    expect(iso((resolveT0(when('09:00'), 'Asia/Tokyo', Date.UTC(2026, 10, 23, 23, 30)) as { t0: number }).t0)).toBe('2026-11-24T00:00:00.000Z');
  });

  it('on the spring-forward day (Europe/Berlin 2026-03-29) a time in the gap is refused; times around it take the right offset', () => {
    const midnight = Date.UTC(2026, 2, 28, 23, 0); // 00:00 in Berlin, CET
    expect(iso((resolveT0(when('01:30'), BERLIN, midnight) as { t0: number }).t0)).toBe('2026-03-29T00:30:00.000Z'); // CET, UTC+01:00
    expect(iso((resolveT0(when('03:30'), BERLIN, midnight) as { t0: number }).t0)).toBe('2026-03-29T01:30:00.000Z'); // CEST, UTC+02:00
    expect(resolveT0(when('02:30'), BERLIN, midnight)).toEqual({
      ok: false,
      problem: '02:30 does not exist on 2026-03-29 in Europe/Berlin: the clocks jump forward over it. Give another time, or a UTC time like 2026-03-29T01:30Z.',
    });
    // Once the gap is behind us, 02:30 means the next day's.
    expect(iso((resolveT0(when('02:30'), BERLIN, Date.UTC(2026, 2, 29, 8, 0)) as { t0: number }).t0)).toBe('2026-03-30T00:30:00.000Z');
  });

  it('on the fall-back day (Europe/Berlin 2026-10-25) a time that happens twice takes the next one, and says which', () => {
    const midnight = Date.UTC(2026, 9, 24, 22, 0); // 00:00 in Berlin, CEST
    expect(resolveT0(when('02:30'), BERLIN, midnight)).toEqual({
      ok: true,
      t0: Date.UTC(2026, 9, 25, 0, 30),
      note: '02:30 happens twice on 2026-10-25 in Europe/Berlin (the clocks go back): this is the first, at UTC+02:00.',
    });
    const between = Date.UTC(2026, 9, 25, 0, 45); // 02:45 CEST, before the clocks go back
    expect(resolveT0(when('02:30'), BERLIN, between)).toEqual({
      ok: true,
      t0: Date.UTC(2026, 9, 25, 1, 30),
      note: '02:30 happens twice on 2026-10-25 in Europe/Berlin (the clocks go back): this is the second, at UTC+01:00.',
    });
    expect(iso((resolveT0(when('14:00'), BERLIN, midnight) as { t0: number }).t0)).toBe('2026-10-25T13:00:00.000Z'); // CET again
  });
});

describe('zone helpers', () => {
  it('offsets, instants and text', () => {
    expect([offsetMinutes(Date.UTC(2026, 0, 1), BERLIN), offsetMinutes(Date.UTC(2026, 6, 1), BERLIN), offsetMinutes(Date.UTC(2026, 0, 1), 'Asia/Kolkata')]).toEqual([60, 120, 330]);
    expect(instantsOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, BERLIN)).toEqual([]);
    expect(instantsOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, BERLIN)).toEqual([Date.UTC(2026, 9, 25, 0, 30), Date.UTC(2026, 9, 25, 1, 30)]);
    expect(zonedText(Date.UTC(2026, 10, 24, 14, 0), BERLIN)).toBe('2026-11-24 15:00 Europe/Berlin, UTC+01:00');
    expect(zonedText(Date.UTC(2026, 10, 24, 14, 0), 'America/St_Johns')).toBe('2026-11-24 10:30 America/St_Johns, UTC-03:30');
    expect(zonedText(Date.UTC(2026, 10, 24, 14, 0), 'UTC')).toBe('2026-11-24 14:00 UTC');
  });
});
