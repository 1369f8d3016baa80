/** What a store calls with the key of a sampled write (it may throw: the write is refused). */
export type WriteCheck = (key: unknown) => void;

/** Writes of a store whose key is checked: every one of its first 1,024... */
export const CHECKED_FIRST_WRITES = 1_024;
/** ...then 1 in 1,024 (a power of two: the test is a mask). */
export const CHECKED_WRITES_EVERY = 1_024;

/**
 * Picks the writes of one store whose key is checked: each of the first
 * {@link CHECKED_FIRST_WRITES}, then 1 in {@link CHECKED_WRITES_EVERY}. A write costs an
 * increment and a compare; the check itself (a few hundred ns of murmur2) runs on the sampled
 * ones only. Counted in writes, never in time, so which writes are checked depends only on the input.
 *
 * @example
 * const sampler = new WriteSampler((key) => checkKey(key));
 * sampler.wrote('customer-7'); // checked: one of the first 1,024
 */
export class WriteSampler {
  private writes = 0;

  constructor(private readonly check: WriteCheck) {}

  /** A write of `key` is about to happen; the check throws to refuse it. */
  wrote(key: unknown): void {
    const n = ++this.writes;
    if (n <= CHECKED_FIRST_WRITES || (n & (CHECKED_WRITES_EVERY - 1)) === 0) this.check(key);
  }
}
