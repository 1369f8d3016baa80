import { Subject, type Observable, type OperatorFunction } from 'rxjs';
import type { OffsetHolds } from '../../../src/streams/offset-holds.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';

/** A record as the runtime delivers it. */
export function rec<V = null>(key: string, timestamp: number, offset = 0, value: V = null as V): StreamRecord<string, V> {
  return { topic: 't', partition: 0, offset, key, value, headers: {}, timestamp };
}

/** Offset holds that remember what is held, for assertions. */
export class RecordingHolds implements OffsetHolds {
  private readonly held = new Map<number, number>();
  acquired = 0;
  released = 0;
  doubleReleases = 0;

  hold(offset: number): () => void {
    this.acquired++;
    this.held.set(offset, (this.held.get(offset) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) {
        this.doubleReleases++;
        return;
      }
      done = true;
      this.released++;
      const n = (this.held.get(offset) ?? 0) - 1;
      if (n <= 0) this.held.delete(offset);
      else this.held.set(offset, n);
    };
  }

  /** The lowest held offset, `Infinity` when nothing is held. */
  get min(): number {
    let min = Infinity;
    for (const offset of this.held.keys()) if (offset < min) min = offset;
    return min;
  }

  get count(): number {
    let n = 0;
    for (const c of this.held.values()) n += c;
    return n;
  }
}

/**
 * Runs records through `build(source, clock)` the way the partition runtime does: deliver the
 * record, then `clock.observe(timestamp)`; at the end close the clock (watermark +∞) and
 * complete the source. Returns everything emitted.
 */
export function runOnClock<T, R>(
  records: readonly T[],
  build: (source: Observable<T>, clock: WatermarkClock) => Observable<R>,
  options: { outOfOrderness?: number; timestamp?: (r: T) => number; afterEach?: (r: T, clock: WatermarkClock) => void } = {},
): R[] {
  const clock = new WatermarkClock({ outOfOrderness: options.outOfOrderness ?? 0 });
  const source = new Subject<T>();
  const out: R[] = [];
  const errors: unknown[] = [];
  const sub = build(source.asObservable(), clock).subscribe({ next: (r) => out.push(r), error: (e) => errors.push(e) });
  const ts = options.timestamp ?? ((r: T) => (r as { timestamp: number }).timestamp);
  for (const r of records) {
    source.next(r);
    clock.observe(ts(r));
    options.afterEach?.(r, clock);
  }
  clock.close();
  source.complete();
  sub.unsubscribe();
  if (errors.length > 0) throw errors[0];
  return out;
}

/** Applies `op` with the runtime protocol; see {@link runOnClock}. */
export function runOp<T, R>(records: readonly T[], op: (clock: WatermarkClock) => OperatorFunction<T, R>, outOfOrderness = 0): R[] {
  return runOnClock(records, (source, clock) => source.pipe(op(clock)), { outOfOrderness });
}

/** Code-unit order, as the spec wants for names. */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
