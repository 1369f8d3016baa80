/**
 * One window's result for one key.
 *
 * Time windows ({@link tumbling}, {@link hopping}, {@link sliding}) are half-open:
 * `[windowStart, windowEnd)`. Session windows ({@link session}) span their first and last
 * event timestamps, both inclusive, as Kafka Streams' `SessionWindows`: a one-event session
 * has `windowStart === windowEnd`.
 *
 * @example
 * // tumbling({ size: 60_000, aggregate: counting(), key: (r) => r.value.page }) emits e.g.
 * const r: WindowResult<string, number> = {
 *   key: '/home', windowStart: 60_000, windowEnd: 120_000, value: 3,
 *   timestamp: 119_999, offset: 17, final: true,
 * };
 */
export interface WindowResult<K, A> {
  readonly key: K;
  readonly windowStart: number;
  /** Exclusive for time windows; the last event's timestamp (inclusive) for sessions. */
  readonly windowEnd: number;
  /** The aggregate. */
  readonly value: A;
  /**
   * The result's own event time: `windowEnd − 1` for time windows (the last instant inside the
   * window, so a downstream window of the same size and alignment puts it in the same window);
   * `windowEnd + gap` for sessions (the time the session closed). Either way a downstream
   * window operator on the same clock never finds a result late when it fires.
   */
  readonly timestamp: number;
  /**
   * The earliest input offset that contributed, when elements have offsets. A downstream
   * operator holds it while its own window is open, so a restart replays everything this
   * result came from.
   */
  readonly offset: number | undefined;
  /** True for the one final result of the window; false for early updates (`emit: 'every-record'`). */
  readonly final: boolean;
}

/**
 * When a window operator emits: `'final'` (the default) emits each window once, with its final
 * result, when the watermark passes its end plus the allowed lateness; `'every-record'` also
 * emits the window's updated result (`final: false`) each time a record is added to it.
 *
 * @example
 * const emit: EmitMode = 'every-record';
 * clicks.pipe(tumbling({ size: 60_000, aggregate: counting(), emit }), filter((w) => w.final));
 */
export type EmitMode = 'final' | 'every-record';
