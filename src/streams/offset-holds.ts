/**
 * Lets an operator keep the commit point from passing a record it still needs.
 *
 * A window that is still open holds the earliest offset that contributed to it; the partition's
 * offset tracker never commits past the lowest held offset. A restart therefore replays every
 * record an open window had seen, and the window is rebuilt exactly.
 *
 * @example
 * const release = holds.hold(record.offset); // the window opened with this record
 * // ... later, when the window has fired:
 * release();
 */
export interface OffsetHolds {
  /** Hold `offset` (and everything after it) back from being committed. Returns the release. Idempotent release. */
  hold(offset: number): () => void;
}

/** Holds nothing: for operators used outside a partition runtime (tests, plain RxJS). */
export const noOffsetHolds: OffsetHolds = {
  hold: () => () => {},
};
