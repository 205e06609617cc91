// What the bot's buttons carry. A status-card button: the cutover and the phaseSeq the card was
// rendered for; the engine refuses a click whose phaseSeq is not the current one, so an old card
// can never act on a new state. A checklist or sign-off button: the cutover and which item; those
// carry no phaseSeq, because a tick stays valid whatever phase the cutover has moved to.
import { z } from 'zod';

export interface ButtonValue {
  /** Cutover id. */
  readonly c: string;
  /** phaseSeq of the state the card showed. */
  readonly s: number;
}

export interface TickValue {
  readonly c: string;
  /** Timeline index of the checkpoint. */
  readonly k: number;
  /** Index of the item in its checklist. */
  readonly i: number;
}

export interface SignOffValue {
  readonly c: string;
  /** Index of the plan's sign-off item. */
  readonly i: number;
}

/** Cutover ids are `<plan>-<utc stamp>-<hex>`: lowercase letters, digits and "-". */
const CUTOVER_ID = /^[a-z0-9][a-z0-9-]{0,120}$/;

const cutover = z.string().regex(CUTOVER_ID);
/** Plans hold at most 30 checkpoints and 20 items (or sign-off items) each; anything beyond is not ours. */
const index = (max: number) => z.int().min(0).max(max);

const card = z.object({ c: cutover, s: z.int().min(1).max(1_000_000) }).strict();
const tick = z.object({ c: cutover, k: index(29), i: index(19) }).strict();
const signOff = z.object({ c: cutover, i: index(19) }).strict();

export const encodeButtonValue = (value: ButtonValue): string => JSON.stringify({ c: value.c, s: value.s });
export const encodeTickValue = (value: TickValue): string => JSON.stringify({ c: value.c, k: value.k, i: value.i });
export const encodeSignOffValue = (value: SignOffValue): string => JSON.stringify({ c: value.c, i: value.i });

/** Null for anything the bot did not write: the click is refused, never guessed at. */
function decode<T>(raw: unknown, schema: z.ZodType<T>): T | null {
  // Whatever the payload carried: a forged or damaged one may hold null, a number or an object.
  if (typeof raw !== 'string' || raw.length > 2_000) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export const decodeButtonValue = (raw: unknown): ButtonValue | null => decode(raw, card);
export const decodeTickValue = (raw: unknown): TickValue | null => decode(raw, tick);
export const decodeSignOffValue = (raw: unknown): SignOffValue | null => decode(raw, signOff);
