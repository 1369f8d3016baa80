import type { OperatorFunction } from 'rxjs';
import { resolveEventTime, resolveHolds, resolveKey, resolveLate } from './event-time-options.js';
import { reportLate } from './late-output.js';
import { MinHeap } from './min-heap.js';
import { nonNegativeInteger, requiredObject } from './validate.js';
import { watermarkOperator } from './watermark-operator.js';
import { checkAggregator, resolveEmit, type EmitOptions, type WindowOptions } from './window-options.js';
import type { WindowResult } from './window-result.js';

/** The open state of one window: its keys' accumulators, and one hold at its earliest offset. */
interface OpenWindow<K, A> {
  readonly start: number;
  readonly end: number;
  readonly entries: Map<K, Entry<A>>;
  minOffset: number | undefined;
  release: (() => void) | undefined;
}

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
 * Windows are kept in a `Map` by start, with a min-heap of starts for firing; each window
 * maps keys (in first-seen order) to accumulators, and holds one offset: the earliest of
 * its elements. Every key of a window fires at the same watermark, so one hold per window is
 * the same constraint as one per key and window, for fewer holds. When the watermark reaches
 * `end + allowedLateness`, the window emits one result per key, in first-seen order, then
 * releases its hold; windows fire in order of their start.
 */
export function alignedWindows<T, K, A>(
  operator: string,
  options: WindowOptions<T, K, A> & EmitOptions,
  size: number,
  advance: number,
): OperatorFunction<T, WindowResult<K, A>> {
  requiredObject(operator, options);
  checkAggregator(operator, options.aggregate);
  const { aggregate } = options;
  const late = resolveLate(operator, options.late);
  const eventTime = resolveEventTime(operator, options);
  const keyOf = resolveKey(operator, options);
  const { holds, offset: offsetOf } = resolveHolds(operator, options);
  const lateness = nonNegativeInteger(operator, 'allowedLateness', options.allowedLateness, 0);
  const emitMode = resolveEmit(operator, options.emit);

  return watermarkOperator<T, WindowResult<K, A>>(eventTime, ({ emit, watermark, closed }) => {
    const windows = new Map<number, OpenWindow<K, A>>();
    const starts = new MinHeap<number>((a, b) => a - b);
    const result = (w: OpenWindow<K, A>, key: K, entry: Entry<A>, final: boolean): WindowResult<K, A> => ({
      key,
      windowStart: w.start,
      windowEnd: w.end,
      value: entry.acc,
      timestamp: w.end - 1,
      offset: entry.minOffset,
      final,
    });

    return {
      next(element, ts) {
        const first = (Math.floor((ts - size) / advance) + 1) * advance;
        const wm = watermark();
        const offset = offsetOf(element);
        if (first + size + lateness <= wm) {
          reportLate(late, element, { operator, timestamp: ts, watermark: wm, offset });
          return;
        }
        const key = keyOf(element);
        for (let start = first; start <= ts; start += advance) {
          let w = windows.get(start);
          if (w === undefined) {
            w = { start, end: start + size, entries: new Map(), minOffset: undefined, release: undefined };
            windows.set(start, w);
            starts.push(start);
          }
          let entry = w.entries.get(key);
          if (entry === undefined) {
            entry = { acc: aggregate.add(aggregate.init(), element), minOffset: offset };
            w.entries.set(key, entry);
          } else {
            entry.acc = aggregate.add(entry.acc, element);
            if (offset !== undefined && (entry.minOffset === undefined || offset < entry.minOffset)) entry.minOffset = offset;
          }
          if (offset !== undefined && (w.minOffset === undefined || offset < w.minOffset)) {
            const previous = w.release;
            w.minOffset = offset;
            w.release = holds.hold(offset);
            previous?.();
          }
          if (emitMode === 'every-record') emit(result(w, key, entry, false));
        }
      },

      advance(wm) {
        while (!closed()) {
          const start = starts.peek();
          if (start === undefined || start + size + lateness > wm) return;
          starts.pop();
          const w = windows.get(start) as OpenWindow<K, A>;
          windows.delete(start);
          for (const [key, entry] of w.entries) {
            if (closed()) return;
            emit(result(w, key, entry, true));
          }
          // After the results: the hold passes to whoever holds the results' offsets downstream.
          w.release?.();
        }
      },

      teardown() {
        windows.clear();
        starts.clear();
      },
    };
  });
}
