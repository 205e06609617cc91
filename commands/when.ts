// When `/cutover schedule <plan> at <time>` puts T0: an ISO time with its zone (Z or an offset),
// or HH:MM meaning the next time the clock in the plan's time zone reads it. Pure; `now` is given.
import { formatDuration } from '../src/domain/duration.ts';
import { instantsOf, offsetText, wallClock, zonedText } from '../src/domain/zone.ts';

export type When =
  | { readonly kind: 'instant'; readonly ms: number; readonly text: string }
  | { readonly kind: 'wall'; readonly hour: number; readonly minute: number; readonly text: string };

/** How far ahead a cutover may be scheduled: a typo in the date should not park one for a year. */
export const MAX_AHEAD_MS = 30 * 86_400_000;

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$/i;
const HHMM = /^(\d{1,2}):(\d{2})$/;

export type ParsedWhen = { readonly ok: true; readonly when: When } | { readonly ok: false; readonly problem: string };

const EXAMPLES = 'a UTC time like 2026-11-24T14:00Z, one with its offset like 2026-11-24T15:00+01:00, or HH:MM in the plan’s time zone';

export function parseWhen(token: string): ParsedWhen {
  const clock = HHMM.exec(token);
  if (clock) {
    const hour = Number(clock[1]);
    const minute = Number(clock[2]);
    if (hour > 23 || minute > 59) return { ok: false, problem: `${token} is not a time of day: use HH:MM from 00:00 to 23:59.` };
    return { ok: true, when: { kind: 'wall', hour, minute, text: token } };
  }
  const iso = ISO.exec(token);
  if (!iso) return { ok: false, problem: `${JSON.stringify(token.slice(0, 60))} is not a time: give ${EXAMPLES}.` };
  const [, y, mo, d, h, mi, s, zone] = iso;
  if (!zone) return { ok: false, problem: `${token} has no time zone: add Z for UTC (${token}Z) or an offset like +01:00, or give HH:MM for the plan’s time zone.` };
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0)] as const;
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]);
  const back = new Date(local);
  // Date.UTC rolls 2026-02-30 over into March: a date that does not round-trip does not exist.
  const exists = back.getUTCFullYear() === fields[0] && back.getUTCMonth() === fields[1] - 1 && back.getUTCDate() === fields[2] && fields[3] < 24 && fields[4] < 60 && fields[5] < 60;
  if (!exists) return { ok: false, problem: `${token} is not a valid date and time.` };
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const [hours, minutes] = zone.slice(1).split(':').map(Number) as [number, number];
    if (hours > 14 || minutes > 59) return { ok: false, problem: `${zone} is not a UTC offset (at most ±14:00).` };
    offset = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  return { ok: true, when: { kind: 'instant', ms: local - offset * 60_000, text: token } };
}

export type T0 = { readonly ok: true; readonly t0: number; readonly note?: string } | { readonly ok: false; readonly problem: string };

const pad = (n: number) => String(n).padStart(2, '0');

/** T0 for `when` in the plan's `timeZone`, or why it cannot be: in the past, too far ahead, or a clock time that does not exist. */
export function resolveT0(when: When, timeZone: string, now: number, maxAheadMs = MAX_AHEAD_MS): T0 {
  const checked = (t0: number, note?: string): T0 => {
    if (t0 <= now) return { ok: false, problem: `${when.text} is in the past (it is now ${zonedText(now, 'UTC')}): T0 must be ahead. To start now, use /cutover start.` };
    if (t0 - now > maxAheadMs) return { ok: false, problem: `${when.text} is more than ${formatDuration(maxAheadMs)} ahead (${zonedText(t0, 'UTC')}); schedule it nearer the day.` };
    return note ? { ok: true, t0, note } : { ok: true, t0 };
  };
  if (when.kind === 'instant') return checked(when.ms);
  // Today in the plan's zone, then tomorrow: the next time its clocks read HH:MM.
  const today = wallClock(now, timeZone);
  for (const dayOffset of [0, 1]) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset));
    const wall = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: when.hour, minute: when.minute };
    const dateText = `${wall.year}-${pad(wall.month)}-${pad(wall.day)}`;
    const instants = instantsOf(wall, timeZone);
    if (instants.length === 0) {
      // A spring-forward gap: the clock never reads this time that day. Already behind us, tomorrow
      // is meant; ahead, refuse rather than guess which hour was meant.
      const after = instantsOf({ ...wall, hour: (wall.hour + 1) % 24 }, timeZone)[0];
      if (after !== undefined && after <= now) continue;
      const hint = after !== undefined ? `, or a UTC time like ${new Date(after).toISOString().slice(0, 16)}Z` : '';
      return { ok: false, problem: `${when.text} does not exist on ${dateText} in ${timeZone}: the clocks jump forward over it. Give another time${hint}.` };
    }
    const next = instants.find((ms) => ms > now);
    if (next === undefined) continue;
    const note =
      instants.length > 1
        ? `${when.text} happens twice on ${dateText} in ${timeZone} (the clocks go back): this is the ${next === instants[0] ? 'first' : 'second'}, at ${offsetText(offsetOf(next, wall))}.`
        : undefined;
    return checked(next, note);
  }
  return { ok: false, problem: `could not place ${when.text} in ${timeZone}.` };
}

/** The offset in force at `ms`, knowing the clock there reads `wall`. */
const offsetOf = (ms: number, wall: { year: number; month: number; day: number; hour: number; minute: number }): number =>
  Math.round((Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) - ms) / 60_000);
