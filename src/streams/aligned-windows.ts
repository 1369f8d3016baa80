import type { OperatorFunction } from 'rxjs';
import { resolveEventTime, resolveHolds, resolveKey, resolveLate } from './event-time-options.js';
import { reportLate } from './late-output.js';
import { MinHeap } from './min-heap.js';
import { requiredObject } from './validate.js';
import { watermarkOperator } from './watermark-operator.js';
import { checkAggregator, resolveEmit, type EmitOptions, type WindowOptions } from './window-options.js';
import { resolveGrace } from './window-options.js';
import type { WindowResult } from './window-result.js';
import { declareWindowStore, operatorStoreName, storePartitioning } from './operator-stores.js';

/** What the window store keeps per window and key: the accumulator, and the earliest offset that contributed. */
interface Entry<A> {
  acc: A;
  minOffset: number | undefined;
}

/**
 * The engine of epoch-aligned windows of `size` ms starting at every multiple of `advance`
 * ({@link tumbling}: `advance === size`; {@link hopping}). Internal.
 *
 * A record at `ts` belongs to every window `[s, s + size)` with `s` a multiple of `advance` and
 * `s <= ts < s + size`. It is late when the earliest of them has fired (its end plus the
 * allowed lateness is at or behind the operator's watermark): then it goes, whole, to the late
 * output and into no window, even if later windows it belongs to are still open. That keeps
 * the results equal to a batch computation over the records that were not late.
 *
 * Open windows live in a window store (inside a processor: logged to its changelog at each
 * commit, one record per changed window and key, and restored after a crash, so an open
 * window never keeps the commit back), with a min-heap of starts for firing; each window maps
 * keys (in first-seen order, kept across restores) to accumulators. When the watermark reaches
 * `end + grace`, the window emits one result per key, in first-seen order, and is
 * deleted from the store (tombstones in the changelog); windows fire in order of their start.
 */
export function alignedWindows<T, K, A>(
  operator: string,
  options: WindowOptions<T, A, K> & EmitOptions,
  size: number,
  advance: number,
): OperatorFunction<T, WindowResult<K, A>> {
  requiredObject(operator, options);
  checkAggregator(operator, options.aggregate);
  const { aggregate } = options;
  const late = resolveLate(operator, options.late);
  const eventTime = resolveEventTime(operator, options);
  const keyOf = resolveKey(operator, options);
  const { offset: offsetOf } = resolveHolds(operator, options);
  const partitioning = storePartitioning(operator, options.partitioning);
  const windowStore = declareWindowStore<K, Entry<A>>(operatorStoreName(operator, options.store), { view: (entry: Entry<A>) => entry.acc, operator, partitioning });
  const lateness = resolveGrace(operator, options);
  const emitMode = resolveEmit(operator, options.emit);

  return watermarkOperator<T, WindowResult<K, A>>(eventTime, ({ emit, lateWatermark, closed }) => {
    const windows = windowStore();
    const starts = new MinHeap<number>((a, b) => a - b);
    windows.onRestored(() => {
      for (const start of windows.starts()) starts.push(start);
    });
    const result = (start: number, key: K, entry: Entry<A>, final: boolean): WindowResult<K, A> => ({
      key,
      windowStart: start,
      windowEnd: start + size,
      value: entry.acc,
      timestamp: start + size - 1,
      offset: entry.minOffset,
      final,
    });

    return {
      next(element, ts) {
        const first = (Math.floor((ts - size) / advance) + 1) * advance;
        const wm = lateWatermark();
        const offset = offsetOf(element);
        if (first + size + lateness <= wm) {
          reportLate(late, element, { operator, timestamp: ts, watermark: wm, offset, window: { start: first, end: first + size } });
          return;
        }
        const key = keyOf(element);
        for (let start = first; start <= ts; start += advance) {
          const w = windows.window(start);
          if (w === undefined) starts.push(start);
          let entry = w?.get(key);
          if (entry === undefined) {
            entry = { acc: aggregate.add(aggregate.init(), element), minOffset: offset };
            windows.put(start, key, entry);
          } else {
            entry.acc = aggregate.add(entry.acc, element);
            if (offset !== undefined && (entry.minOffset === undefined || offset < entry.minOffset)) entry.minOffset = offset;
            windows.touch(start, key);
          }
          if (emitMode === 'every-record') emit(result(start, key, entry, false));
        }
      },

      advance(wm) {
        while (!closed()) {
          const start = starts.peek();
          if (start === undefined || start + size + lateness > wm) return;
          starts.pop();
          const w = windows.window(start);
          if (w === undefined) continue;
          const entries = [...w];
          windows.deleteWindow(start);
          for (const [key, entry] of entries) {
            if (closed()) return;
            emit(result(start, key, entry, true));
          }
        }
      },

      teardown() {
        // The store is the partition's (restored by the next pipeline), not this subscription's.
        starts.clear();
      },
    };
  });
}
