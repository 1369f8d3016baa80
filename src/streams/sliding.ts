import type { OperatorFunction } from 'rxjs';
import { checkAggregator, type WindowOptions } from './window-options.js';
import { resolveGrace } from './window-options.js';
import { resolveEventTime, resolveHolds, resolveKey, resolveLate, type KeyOf } from './event-time-options.js';
import { reportLate } from './late-output.js';
import { MinHeap } from './min-heap.js';
import { positiveInteger, requiredObject } from './validate.js';
import { watermarkOperator } from './watermark-operator.js';
import type { WindowResult } from './window-result.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning } from './operator-stores.js';

/**
 * Settings of {@link sliding}.
 *
 * @example
 * const tenMinutes: SlidingOptions<StreamRecord, number> = { timeDifference: 600_000, aggregate: counting() };
 */
export interface SlidingOptions<T, A, K = KeyOf<T>> extends WindowOptions<T, A, K> {
  /** Records whose timestamps differ by at most this many ms can share a window; a positive integer. */
  readonly timeDifference: number;
}

/** One key's records, by timestamp (ties in arrival order). */
interface KeyBuffer<K, T> {
  readonly key: K;
  readonly seq: number;
  readonly times: number[];
  readonly elements: T[];
  readonly offsets: (number | undefined)[];
  /** Windows due at or before this watermark have been emitted. */
  firedThrough: number;
  /** When its live schedule entry comes; `Infinity` when none (or the key was freed). */
  scheduledAt: number;
}

interface Due<K, A> {
  readonly start: number;
  readonly keySeq: number;
  readonly result: WindowResult<K, A>;
}

/** First index whose value is greater than `x`. */
function upperBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is at least `x`. */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per-key aggregation over sliding windows as Kafka Streams' `SlidingWindows` defines them
 * (with `timeDifference` and grace): windows are defined by the records' timestamps, not
 * aligned to the epoch. Two records share a window when their timestamps differ by at most
 * `timeDifference` (d). For each record at `t` there is
 *
 * - its left window, ending at it: timestamps in `[t − d, t]`, and
 * - its right window, starting just after it: `[t + 1, t + d + 1]`, only if a record falls in it,
 *
 * and each distinct window aggregates every record of the key in it, so every distinct set of
 * records that lie within `d` of each other is computed once. As every window in tributary,
 * results are half-open: `windowStart = t − d`, `windowEnd = t + 1` for a left window
 * (`windowEnd − windowStart = d + 1`); Kafka Streams would print the same window as `[t − d, t]`.
 *
 * **Firing.** A window fires when the watermark reaches `windowEnd + grace`.
 * Final results only. **Late records.** A record at `t` is late when its own left window has
 * fired (`t + 1 + grace <= watermark`): every window containing `t` ends at or after
 * it, so an on-time record only ever changes windows that are still open.
 *
 * **State.** Per key, in a key-value store (inside a processor: logged at each commit and
 * restored after a crash, so open windows never keep the commit back), its records by
 * timestamp, each kept until no open window contains or is defined by it
 * (`t + d + 2 + grace <= watermark`); the key is freed when none is left. The records
 * themselves are the state (serialized with the store's serde: V8's structured clone), and a
 * window's value is folded from them when it fires, so `add` is called once per record and window.
 *
 * @example
 * // card spend over any 10 minutes
 * transactions.pipe(
 *   sliding({ timeDifference: 600_000, aggregate: summing((r) => r.value.amount), store: 'spend' }),
 *   filter((w) => w.value > 1_000_000),
 * );
 */
export function sliding<T, A, K = KeyOf<T>>(options: SlidingOptions<T, A, K>): OperatorFunction<T, WindowResult<K, A>> {
  const operator = 'sliding';
  requiredObject(operator, options);
  const d = positiveInteger(operator, 'timeDifference', options.timeDifference);
  checkAggregator(operator, options.aggregate);
  const { aggregate } = options;
  const late = resolveLate(operator, options.late);
  const eventTime = resolveEventTime(operator, options);
  const keyOf = resolveKey(operator, options);
  const { offset: offsetOf } = resolveHolds(operator, options);
  const lateness = resolveGrace(operator, options);
  const partitioning = storePartitioning(operator, options.partitioning);
  const keyStore = declareKeyValueStore<K, KeyBuffer<K, T>>(operatorStoreName(operator, options.store), { keepsReferences: true, operator, partitioning }); // buffers are referenced

  return watermarkOperator<T, WindowResult<K, A>>(eventTime, ({ emit, watermark, lateWatermark, closed }) => {
    const keys = keyStore();
    const schedule = new MinHeap<{ at: number; seq: number; buffer: KeyBuffer<K, T> }>((a, b) => a.at - b.at || a.seq - b.seq);
    let seq = 0;
    // Buffers deleted from the store: what is still scheduled for them is void.
    const forgotten = new WeakSet<KeyBuffer<K, T>>();
    /** When `buffer` next needs the watermark: its first left window not yet fired, or its first record's drop. */
    const nextDue = (buffer: KeyBuffer<K, T>, firedThrough: number): number => {
      const { times } = buffer;
      const firstOpenLeft = upperBound(times, firedThrough - 1 - lateness);
      const left = firstOpenLeft < times.length ? times[firstOpenLeft] + 1 + lateness : Infinity;
      return Math.min(left, times[0] + d + 2 + lateness);
    };
    // Restored keys go back on the schedule, in their first-seen order.
    keys.onRestored(() => {
      const restored = [...keys.all()].map(([, buffer]) => buffer).sort((a, b) => a.seq - b.seq);
      for (const buffer of restored) {
        if (buffer.seq >= seq) seq = buffer.seq + 1;
        buffer.scheduledAt = Infinity;
      }
      for (const buffer of restored) reschedule(buffer, nextDue(buffer, buffer.firedThrough));
    });

    const reschedule = (buffer: KeyBuffer<K, T>, at: number): void => {
      if (at >= buffer.scheduledAt) return;
      buffer.scheduledAt = at;
      schedule.push({ at, seq: seq++, buffer });
    };

    /** The window [start, start + d] of `buffer`'s records, folded now. */
    const windowAt = (buffer: KeyBuffer<K, T>, start: number): WindowResult<K, A> => {
      const { times, elements, offsets } = buffer;
      let acc = aggregate.init();
      let minOffset: number | undefined;
      for (let i = lowerBound(times, start), end = upperBound(times, start + d); i < end; i++) {
        acc = aggregate.add(acc, elements[i]);
        const offset = offsets[i];
        if (offset !== undefined && (minOffset === undefined || offset < minOffset)) minOffset = offset;
      }
      return { key: buffer.key, windowStart: start, windowEnd: start + d + 1, value: acc, timestamp: start + d, offset: minOffset, final: true };
    };

    /** Collects `buffer`'s windows due in (firedThrough, wm], then drops records nothing open needs. */
    const collect = (buffer: KeyBuffer<K, T>, wm: number, due: Due<K, A>[]): void => {
      const { times } = buffer;
      const from = buffer.firedThrough;
      const starts = new Set<number>();
      // Left windows [t − d, t] fire at t + 1 + lateness.
      for (let i = upperBound(times, from - 1 - lateness); i < times.length && times[i] + 1 + lateness <= wm; i++) {
        starts.add(times[i] - d);
      }
      // Right windows [t + 1, t + d + 1] fire at t + d + 2 + lateness, when a record is in them.
      for (let i = upperBound(times, from - d - 2 - lateness); i < times.length && times[i] + d + 2 + lateness <= wm; i++) {
        const t = times[i];
        const next = upperBound(times, t);
        if (next < times.length && times[next] <= t + d + 1) starts.add(t + 1);
      }
      for (const start of starts) due.push({ start, keySeq: buffer.seq, result: windowAt(buffer, start) });
      buffer.firedThrough = wm;

      const keep = upperBound(times, wm - d - 2 - lateness);
      if (keep > 0) {
        buffer.times.splice(0, keep);
        buffer.elements.splice(0, keep);
        buffer.offsets.splice(0, keep);
      }
      buffer.scheduledAt = Infinity;
      if (times.length === 0) {
        forgotten.add(buffer);
        keys.delete(buffer.key);
        return;
      }
      keys.touch(buffer.key);
      reschedule(buffer, nextDue(buffer, wm));
    };

    return {
      next(element, ts) {
        const wm = watermark();
        const lateWm = lateWatermark();
        const offset = offsetOf(element);
        if (ts + 1 + lateness <= lateWm) {
          reportLate(late, element, { operator, timestamp: ts, watermark: lateWm, offset, window: { start: ts - d, end: ts + 1 } });
          return;
        }
        const key = keyOf(element);
        let buffer = keys.get(key);
        if (buffer === undefined) {
          buffer = { key, seq: seq++, times: [], elements: [], offsets: [], firedThrough: wm, scheduledAt: Infinity };
          keys.put(key, buffer);
        } else {
          keys.touch(key); // changed in place below: logged at the next checkpoint
        }
        const at = upperBound(buffer.times, ts);
        buffer.times.splice(at, 0, ts);
        buffer.elements.splice(at, 0, element);
        buffer.offsets.splice(at, 0, offset);
        reschedule(buffer, ts + 1 + lateness);
      },

      advance(wm) {
        const due: Due<K, A>[] = [];
        for (let next = schedule.peek(); next !== undefined && next.at <= wm; next = schedule.peek()) {
          schedule.pop();
          if (next.buffer.scheduledAt === next.at && !forgotten.has(next.buffer)) collect(next.buffer, wm, due);
        }
        due.sort((a, b) => a.start - b.start || a.keySeq - b.keySeq);
        for (const { result } of due) {
          if (closed()) return;
          emit(result);
        }
      },

      teardown() {
        // The store is the partition's (restored by the next pipeline), not this subscription's.
        schedule.clear();
      },
    };
  });
}
