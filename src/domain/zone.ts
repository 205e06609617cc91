// Wall-clock time in an IANA time zone, with Intl alone (no time-zone library): what a clock in
// the plan's `timezone` reads at an instant, and at which instants it reads a given time. Pure.

export interface WallClock {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // h23: midnight is 00, never 24 (some engines print 24:00 with hour12: false).
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** What a clock in `timeZone` reads at `ms`. Throws RangeError for an unknown zone. */
export function wallClock(ms: number, timeZone: string): WallClock {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const n = (type: string) => Number(parts[type]);
  return { year: n('year'), month: n('month'), day: n('day'), hour: n('hour'), minute: n('minute'), second: n('second') };
}

const asUtc = (w: WallClock): number => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/** Minutes the zone is ahead of UTC at `ms` (Europe/Berlin: 60 in winter, 120 in summer). */
export function offsetMinutes(ms: number, timeZone: string): number {
  const whole = ms - (((ms % 1_000) + 1_000) % 1_000);
  return Math.round((asUtc(wallClock(whole, timeZone)) - whole) / 60_000);
}

/**
 * Every instant at which the zone's clock reads `wall` (seconds ignored), earliest first: none in
 * a spring-forward gap, two in a fall-back overlap, otherwise one.
 */
export function instantsOf(wall: Omit<WallClock, 'second'>, timeZone: string): number[] {
  const local = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  // No zone is more than 14 h from UTC, so the offsets a day either side cover both sides of any
  // transition near this time.
  const offsets = new Set([-86_400_000, 0, 86_400_000].map((d) => offsetMinutes(local + d, timeZone)));
  const candidates = [...offsets].map((o) => local - o * 60_000);
  const reads = (ms: number) => {
    const w = wallClock(ms, timeZone);
    return w.year === wall.year && w.month === wall.month && w.day === wall.day && w.hour === wall.hour && w.minute === wall.minute;
  };
  return [...new Set(candidates.filter(reads))].sort((a, b) => a - b);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "UTC+01:00", "UTC-03:30", "UTC". */
export function offsetText(minutes: number): string {
  if (minutes === 0) return 'UTC';
  const abs = Math.abs(minutes);
  return `UTC${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "2026-11-24 15:00 Europe/Berlin, UTC+01:00": a time as people in the plan's zone read it. */
export function zonedText(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  const date = `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
  return timeZone === 'UTC' ? `${date} UTC` : `${date} ${timeZone}, ${offsetText(offsetMinutes(ms, timeZone))}`;
}
