/** q7's and q8's tumbling windows, and q5's hopping windows' size, ms. */
export const WINDOW_MS = 10_000;

/** q5's hopping windows start every 2,000 ms. */
export const HOP_MS = 2_000;

/** Start of the epoch-aligned window of `size` ms holding `ts` (`Math.floor`: negative times too). */
export function windowStartOf(ts: number, size: number = WINDOW_MS): number {
  return Math.floor(ts / size) * size;
}
