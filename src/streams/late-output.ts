import { Subject, type Observable } from 'rxjs';
import { LateRecordError } from './errors.js';

/**
 * Why and where a record was late.
 *
 * @example
 * const late: LateSink<StreamRecord> = (r, info: LateInfo) =>
 *   log.warn({ topic: r.topic, partition: r.partition, offset: info.offset, watermark: info.watermark }, `late for ${info.operator}`);
 */
export interface LateInfo {
  /** The operator that found it late: `'tumbling'`, `'hopping'`, `'sliding'`, `'session'`, `'orderedByEventTime'`, `'windowedJoin'`, ... */
  readonly operator: string;
  /** The record's event time. */
  readonly timestamp: number;
  /** The operator's watermark when the record arrived. */
  readonly watermark: number;
  /** The record's offset, when the element has one. */
  readonly offset: number | undefined;
  /**
   * The window it missed, `[start, end)` (a session: the fired session's first and last event
   * times, both inclusive, as its results give them); absent for operators without windows.
   */
  readonly window?: { readonly start: number; readonly end: number };
  /**
   * Why the operator left the record out, when it is not lateness: a join's record whose join
   * key is null or undefined (`'null join key'`). Absent for late records.
   */
  readonly reason?: string;
}

/**
 * A late element with its {@link LateInfo}: what an Observer-style {@link LateSink} receives.
 *
 * @example
 * const late = new Subject<LateRecord<StreamRecord>>();
 * late.subscribe(({ element, info }) => console.log(element.offset, info.watermark));
 */
export interface LateRecord<T> {
  readonly element: T;
  readonly info: LateInfo;
}

/**
 * Where an event-time operator sends late records: a function, or anything with `next` (an
 * RxJS `Subject` or `Observer` of {@link LateRecord}, a {@link LateOutput}).
 *
 * @example
 * const toFile: LateSink<StreamRecord> = (r) => lateFile.write(`${JSON.stringify(r.value)}\n`);
 * tumbling({ size: 60_000, aggregate: counting(), late: toFile });
 */
export type LateSink<T> = ((element: T, info: LateInfo) => void) | { next(late: LateRecord<T>): void };

/**
 * The `late` option shared by every operator that can find a record late.
 *
 * @example
 * const options: LateOptions<StreamRecord> = { late: new LateOutput() };
 */
export interface LateOptions<T> {
  /**
   * The late side output. A record is late when a window it belongs to has already fired; it
   * goes here, exactly once, and is left out of every result. Without a sink, a late record
   * fails the stream with a {@link LateRecordError}: late records are never dropped silently.
   */
  readonly late?: LateSink<T>;
}

/**
 * A late side output that counts: pass it as the `late` option of one or several operators,
 * read {@link count}, subscribe to {@link records}.
 *
 * @example
 * const late = new LateOutput<StreamRecord<string, Click>>();
 * late.records.subscribe(({ element, info }) => log.warn({ offset: info.offset }, 'late click'));
 * clicks.pipe(tumbling({ size: 60_000, aggregate: counting(), late }));
 * // later: late.count
 */
export class LateOutput<T> {
  /** Every late record, as it is found (hot: subscribe before records flow). */
  readonly records: Observable<LateRecord<T>>;
  private readonly subject = new Subject<LateRecord<T>>();
  private seen = 0;

  constructor() {
    this.records = this.subject.asObservable();
  }

  /** How many late records it has received. */
  get count(): number {
    return this.seen;
  }

  /** Receives one late record (operators call this). */
  next(late: LateRecord<T>): void {
    this.seen++;
    this.subject.next(late);
  }
}

/** Hands a late record to the sink, or fails loudly when there is none. Internal. */
export function reportLate<T>(sink: LateSink<T> | undefined, element: T, info: LateInfo): void {
  if (sink === undefined) throw new LateRecordError(info.operator, info.timestamp, info.watermark, info.offset);
  if (typeof sink === 'function') sink(element, info);
  else sink.next({ element, info });
}
