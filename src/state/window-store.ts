/**
 * A window store of one partition (Kafka Streams' `WindowStore` for epoch-aligned windows):
 * a value per window start and key, logged to the store's changelog (one record per changed
 * window and key per commit interval) and restored from it. Keys of a window keep their
 * first-seen order, across restores too.
 *
 * @example
 * const counts = windowStore<string, number>('page-views');
 * counts.put(60_000, '/home', (counts.get(60_000, '/home') ?? 0) + 1);
 * counts.deleteWindow(60_000); // fired: its keys become tombstones in the changelog
 */
export interface WindowStore<K, V> {
  readonly name: string;
  get(start: number, key: K): V | undefined;
  put(start: number, key: K, value: V): void;
  /** The keys and values of the window at `start`, in first-seen order. */
  window(start: number): ReadonlyMap<K, V> | undefined;
  /** Every window start held, in no particular order. */
  starts(): IterableIterator<number>;
  /** Drops a window (it fired and is past its retention). */
  deleteWindow(start: number): void;
  /** Number of (window, key) entries. */
  readonly size: number;
}
