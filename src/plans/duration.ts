// The YAML side of durations: a string a person can read at 3 a.m., milliseconds once parsed.
import { z } from 'zod';
import { DURATION_HINT, parseDuration, WHOLE } from '../domain/duration.ts';

/** A duration string in YAML, milliseconds once parsed. */
export const durationSchema = z
  .string({ error: DURATION_HINT })
  .regex(WHOLE, { error: DURATION_HINT })
  .refine((text) => parseDuration(text) !== null, { error: DURATION_HINT })
  .transform((text) => parseDuration(text) as number);
