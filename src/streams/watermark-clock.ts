import type { Observable } from 'rxjs';
import { ConfigError } from '../errors.js';
import { Multicast } from './multicast.js';

/**
 * Settings of a {@link WatermarkClock}.
 *
 * @example
 * const restored = new WatermarkClock({ outOfOrderness: 5_000, initial: savedWatermark });
 */
export interface WatermarkClockOptions {
  /**
   * The out-of-orderness bound in ms: the watermark trails the largest event time seen by this
   * much, so a record up to `outOfOrderness` ms older than the newest one is still on time.
   * Default 0.
   */
  readonly outOfOrderness?: number;
  /** The starting watermark, e.g. one restored after a restart. Default `-Infinity`. */
  readonly initial?: number;
}

/**
 * The event-time clock of one partition: its watermark, and the advances every event-time
 * operator of the partition's pipeline reacts to.
 *
 * A watermark `W` asserts that no more records with event time `< W` are expected: a record
 * with `timestamp >= W` is always on time. It is `max event time seen − outOfOrderness`
 * (bounded out-of-orderness), and external sources move it too with {@link advanceTo}: the idle
 * timeout ({@link advanceOnIdle}), the minimum over upstream partitions after a repartition
 * ({@link MinWatermark}). It never goes backwards. {@link close} sets it to `+Infinity` when a
 * finite input ends, so every window fires.
 *
 * **Order of notification.** Advances are delivered synchronously to the subscribers of
 * {@link advances} in the order they subscribed. Every tributary event-time operator subscribes
 * to its source first and to the clock second; RxJS subscribes a `pipe()` from its last
 * operator back to the source, so every operator is registered after all the event-time
 * operators upstream of it. On an advance, the upstream operator therefore fires first, and
 * its results reach the downstream operator (synchronously) before that one reacts to the
 * same advance: a second-stage window sees everything the first stage fired for it.
 * An advance requested while one is being delivered (from a subscriber) is queued and
 * delivered to everyone after the current one.
 *
 * The runtime delivers each record to the pipeline first and calls {@link observe} with its
 * event time after, so a record is judged against the watermark from before it arrived.
 *
 * @example
 * const clock = new WatermarkClock({ outOfOrderness: 5_000 });
 * clock.advances.subscribe((wm) => console.log('watermark', wm));
 * clock.observe(60_000); // watermark 55000
 * clock.observe(58_000); // older record: no change
 * clock.close();         // watermark Infinity, every window fires
 */
export class WatermarkClock {
  /** The out-of-orderness bound in ms. */
  readonly outOfOrderness: number;
  /** Each new watermark, in increasing order; completes after the watermark reaches `+Infinity`. */
  readonly advances: Observable<number>;
  /** The event time of every {@link observe}d record (what {@link advanceOnIdle} watches). */
  readonly observations: Observable<number>;

  private watermark: number;
  // The watermark before the advance being delivered now (the current one when none is).
  private before: number;
  private maxSeen = -Infinity;
  private delivering = false;
  private queued = false;
  // Not RxJS Subjects: observe() runs once per record, and Subject.next allocates on every call.
  private readonly advanceMulticast = new Multicast<number>();
  private readonly observationMulticast = new Multicast<number>();

  constructor(options: WatermarkClockOptions = {}) {
    const { outOfOrderness = 0, initial = -Infinity } = options;
    if (typeof outOfOrderness !== 'number' || !Number.isSafeInteger(outOfOrderness) || outOfOrderness < 0) {
      throw new ConfigError('WatermarkClock.outOfOrderness', `must be a non-negative integer number of milliseconds, got ${String(outOfOrderness)}`);
    }
    if (typeof initial !== 'number' || Number.isNaN(initial)) {
      throw new ConfigError('WatermarkClock.initial', `must be a number (or -Infinity), got ${String(initial)}`);
    }
    this.outOfOrderness = outOfOrderness;
    this.watermark = initial;
    this.before = initial;
    this.advances = this.advanceMulticast.observable;
    this.observations = this.observationMulticast.observable;
  }

  /** The current watermark; `-Infinity` until the first advance. */
  get current(): number {
    return this.watermark;
  }

  /** The largest event time {@link observe}d so far; `-Infinity` before the first. */
  /**
   * The watermark results emitted now were caused under: while an advance is being delivered
   * (windows firing for it), the watermark before it; otherwise {@link current}. A result a
   * window fires is never late against it in a later window of the same time.
   */
  get settled(): number {
    return this.delivering ? this.before : this.watermark;
  }

  get maxEventTime(): number {
    return this.maxSeen;
  }

  /** True once the watermark is `+Infinity`: nothing can be on time any more. */
  get closed(): boolean {
    return this.watermark === Infinity;
  }

  /** How many subscribers {@link advances} has (operators currently listening): for diagnostics and tests. */
  get listeners(): number {
    return this.advanceMulticast.size;
  }

  /**
   * Takes a record's event time into account: the watermark becomes
   * `max(event times seen) − outOfOrderness` if that is later than the current one.
   */
  observe(eventTime: number): void {
    if (typeof eventTime !== 'number' || !Number.isFinite(eventTime)) {
      throw new RangeError(`WatermarkClock.observe: event time must be a finite number, got ${String(eventTime)}`);
    }
    if (eventTime > this.maxSeen) this.maxSeen = eventTime;
    if (this.observationMulticast.observed) this.observationMulticast.next(eventTime);
    this.advanceTo(this.maxSeen - this.outOfOrderness);
  }

  /** Moves the watermark to `watermark` if that is later than the current one; earlier values are ignored. */
  advanceTo(watermark: number): void {
    if (typeof watermark !== 'number' || Number.isNaN(watermark)) {
      throw new RangeError(`WatermarkClock.advanceTo: watermark must be a number, got ${String(watermark)}`);
    }
    if (!(watermark > this.watermark)) return;
    if (!this.delivering) this.before = this.watermark;
    this.watermark = watermark;
    if (this.delivering) {
      this.queued = true;
      return;
    }
    // Nobody listens (a pipeline without event-time operators): nothing to deliver but the end.
    if (!this.advanceMulticast.observed && watermark !== Infinity) return;
    this.delivering = true;
    try {
      let delivered: number;
      do {
        this.queued = false;
        delivered = this.watermark;
        this.advanceMulticast.next(delivered);
        // A queued advance is delivered next: what fires for it was caused after this one.
        this.before = delivered;
      } while (this.queued);
      if (delivered === Infinity) {
        this.advanceMulticast.complete();
        this.observationMulticast.complete();
      }
    } finally {
      this.delivering = false;
      this.before = this.watermark;
    }
  }

  /** The input ended: the watermark goes to `+Infinity`, every open window fires, {@link advances} completes. */
  close(): void {
    this.advanceTo(Infinity);
  }
}
