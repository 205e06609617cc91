// Durations in plans are strings a person can read at 3 a.m.: "90s", "10m", "1h", "1h30m".
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+)(ms|s|m|h|d)/g;
export const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;

/** Milliseconds for "90s", "10m", "1h30m", "72h", "500ms"; null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) return null;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return Number.isSafeInteger(total) ? total : null;
}

/** The shortest readable form: 1800000 → "30m", 5400000 → "1h30m", 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000 && ms % 1_000 !== 0) return `${(ms / 1_000).toFixed(1).replace(/\.0$/, '')}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

export const DURATION_HINT = 'must be a duration like 90s, 10m or 1h';
