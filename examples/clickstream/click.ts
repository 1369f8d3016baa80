import { z } from 'zod';

/**
 * A click, exactly as the spec defines a valid input record: a JSON object with `userId` and
 * `page` strings, `ts` a safe integer (epoch ms) and, when present, `referrer` a string (`null`
 * is invalid). Other fields are allowed and dropped.
 */
export const clickSchema = z.object({
  userId: z.string(),
  page: z.string(),
  ts: z.number().int(),
  referrer: z.string().optional(),
});

/** A valid click. */
export type Click = z.infer<typeof clickSchema>;

/** One-minute tumbling windows of page-views and top-pages, ms. */
export const MINUTE_MS = 60_000;

/** The session gap: a user's next click at most this long after the previous one is in the same session, ms. */
export const SESSION_GAP_MS = 1_800_000;

/** Start of the one-minute window holding `ts`. */
export function minuteOf(ts: number): number {
  return Math.floor(ts / MINUTE_MS) * MINUTE_MS;
}
