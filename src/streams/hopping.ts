import type { OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import { alignedWindows } from './aligned-windows.js';
import type { EmitOptions, WindowOptions } from './window-options.js';
import type { KeyOf } from './event-time-options.js';
import { positiveInteger, requiredObject } from './validate.js';
import type { WindowResult } from './window-result.js';

/**
 * Settings of {@link hopping}.
 *
 * @example
 * const fiveMinutesEveryMinute: HoppingOptions<StreamRecord, number> = { size: 300_000, advance: 60_000, aggregate: counting() };
 */
export interface HoppingOptions<T, A, K = KeyOf<T>> extends WindowOptions<T, A, K>, EmitOptions {
  /** Window size in ms, a positive integer. */
  readonly size: number;
  /** Distance between window starts in ms, a positive integer, at most `size`. */
  readonly advance: number;
}

/**
 * Per-key aggregation over hopping event-time windows: windows `[start, start + size)` for
 * every `start` that is a multiple of `advance`, so a record belongs to about `size / advance`
 * overlapping windows (every one that contains its timestamp).
 *
 * Firing, holds and emission are those of {@link tumbling}. **Late records:** a record is late
 * when any window it belongs to has fired, i.e. its earliest window; it then goes whole to the
 * `late` output and is added to none of its windows, not even the ones still open. (Kafka
 * Streams and Flink would add it to the open ones.) So every result equals a batch
 * computation over the records that were not late, and each record is either in all its
 * windows or in the late output, once.
 *
 * @example
 * // 5-minute averages, updated every minute
 * readings.pipe(
 *   hopping({ size: 300_000, advance: 60_000, aggregate: summing((r) => r.value.celsius), late }),
 * );
 */
export function hopping<T, A, K = KeyOf<T>>(options: HoppingOptions<T, A, K>): OperatorFunction<T, WindowResult<K, A>> {
  requiredObject('hopping', options);
  const size = positiveInteger('hopping', 'size', options.size);
  const advance = positiveInteger('hopping', 'advance', options.advance);
  if (advance > size) {
    throw new ConfigError('hopping.advance', `must not exceed size (${size}), got ${advance}: windows would leave gaps`);
  }
  return alignedWindows('hopping', options, size, advance);
}
