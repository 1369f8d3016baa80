import type { OperatorFunction } from 'rxjs';
import { alignedWindows } from './aligned-windows.js';
import type { EmitOptions, WindowOptions } from './window-options.js';
import type { KeyOf } from './event-time-options.js';
import { positiveInteger, requiredObject } from './validate.js';
import type { WindowResult } from './window-result.js';

/**
 * Settings of {@link tumbling}.
 *
 * @example
 * const perMinute: TumblingOptions<StreamRecord<string, Click>, number, string> = { size: 60_000, aggregate: counting() };
 */
export interface TumblingOptions<T, A, K = KeyOf<T>> extends WindowOptions<T, A, K>, EmitOptions {
  /** Window size in ms, a positive integer. */
  readonly size: number;
}

/**
 * Per-key aggregation over tumbling event-time windows: consecutive, non-overlapping,
 * epoch-aligned windows `[start, start + size)` with `start = floor(ts / size) * size`.
 *
 * Each window fires once, with its final result per key, when the watermark reaches
 * `windowEnd + grace`; all open windows fire when the source completes or the clock
 * closes. A record whose window has already fired is late: it goes to the `late` side output
 * and into no result. Inside a processor's pipeline the open windows live in the partition's
 * window store (restored from its changelog after a restart), and the clock and late output
 * are the partition's: nothing to pass.
 *
 * @example
 * // clickstream page-views: views per page per minute
 * clicks.pipe(
 *   tumbling({ size: 60_000, key: (r) => r.value.page, aggregate: counting() }),
 *   map((w) => ({ page: w.key, windowStart: w.windowStart, windowEnd: w.windowEnd, views: w.value })),
 * );
 */
export function tumbling<T, A, K = KeyOf<T>>(options: TumblingOptions<T, A, K>): OperatorFunction<T, WindowResult<K, A>> {
  requiredObject('tumbling', options);
  const size = positiveInteger('tumbling', 'size', options.size);
  return alignedWindows('tumbling', options, size, size);
}
