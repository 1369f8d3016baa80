import { Observable, asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { WatermarkClock } from './watermark-clock.js';
import { positiveInteger, optionalFunction, requiredObject } from './validate.js';
import { ConfigError } from '../errors.js';

/**
 * What an idle advance is computed from.
 *
 * @example
 * const target = ({ now, maxEventTime, outOfOrderness }: IdleInfo) => Math.min(now - outOfOrderness, maxEventTime);
 */
export interface IdleInfo {
  /** Processing time now (`scheduler.now()`), epoch ms. */
  readonly now: number;
  /** The clock's current watermark. */
  readonly watermark: number;
  /** The largest event time the clock has seen (`-Infinity` if none). */
  readonly maxEventTime: number;
  /** The clock's out-of-orderness bound, ms. */
  readonly outOfOrderness: number;
}

/**
 * Settings of {@link advanceOnIdle}.
 *
 * @example
 * const idle: AdvanceOnIdleOptions = { clock, idleTimeout: 30_000, scheduler: asyncScheduler };
 */
export interface AdvanceOnIdleOptions {
  /** The partition's clock. */
  readonly clock: WatermarkClock;
  /** Processing-time ms without a record after which the partition counts as idle. */
  readonly idleTimeout: number;
  /** Where processing time comes from; inject a `TestScheduler` in tests. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * The watermark to advance to when idle. Default: `now − outOfOrderness`, the wall clock
   * minus the bound. Values not later than the current watermark change nothing.
   */
  readonly target?: (info: IdleInfo) => number;
}

/**
 * Keeps an idle partition from holding its watermark back forever (and, downstream of a
 * repartition, the minimum over all upstream partitions).
 *
 * While subscribed, when the clock has observed no record for `idleTimeout` ms of processing
 * time, it advances the watermark to `target` — by default **the wall clock minus the
 * out-of-orderness bound** (`scheduler.now() − outOfOrderness`), the time a record produced
 * now would at worst carry — and repeats every `idleTimeout` ms while the partition stays
 * idle, so the watermark follows the wall clock. It never moves the watermark backwards. Emits
 * each watermark it set; completes when the clock closes. Per record it costs one
 * `scheduler.now()`; one timer is pending at a time.
 *
 * The default suits live data whose event time tracks the wall clock. When replaying old data
 * (event times far behind the wall clock) the wall clock would make every later record late:
 * don't use it then, or pass `target: ({ maxEventTime }) => maxEventTime` (after the idle
 * timeout, assume no straggler is still coming).
 *
 * @example
 * const clock = new WatermarkClock({ outOfOrderness: 5_000 });
 * const idle = advanceOnIdle({ clock, idleTimeout: 30_000 }).subscribe();
 * // ... no record for 30 s: the watermark moves to Date.now() - 5000
 * idle.unsubscribe(); // when the partition is revoked
 */
export function advanceOnIdle(options: AdvanceOnIdleOptions): Observable<number> {
  requiredObject('advanceOnIdle', options);
  const { clock, scheduler = asyncScheduler } = options;
  const idleTimeout = positiveInteger('advanceOnIdle', 'idleTimeout', options.idleTimeout);
  const target =
    optionalFunction('advanceOnIdle', 'target', options.target) ?? ((info: IdleInfo) => info.now - info.outOfOrderness);
  if (!clock || typeof clock.advanceTo !== 'function') {
    throw new ConfigError('advanceOnIdle.clock', 'must be a WatermarkClock');
  }
  return new Observable<number>((subscriber) => {
    let lastActivity = scheduler.now();
    let timer: Subscription | undefined;
    const check = (): void => {
      const now = scheduler.now();
      const idleFor = now - lastActivity;
      if (idleFor < idleTimeout) {
        arm(idleTimeout - idleFor);
        return;
      }
      let watermark: number;
      try {
        watermark = target({ now, watermark: clock.current, maxEventTime: clock.maxEventTime, outOfOrderness: clock.outOfOrderness });
      } catch (err) {
        subscriber.error(err);
        return;
      }
      if (watermark > clock.current) {
        clock.advanceTo(watermark);
        subscriber.next(watermark);
      }
      if (!subscriber.closed) arm(idleTimeout);
    };
    const arm = (delay: number): void => {
      timer?.unsubscribe();
      timer = scheduler.schedule(check, delay);
    };
    const activity = clock.observations.subscribe({
      next: () => void (lastActivity = scheduler.now()),
      complete: () => subscriber.complete(),
    });
    if (!subscriber.closed) arm(idleTimeout);
    return () => {
      activity.unsubscribe();
      timer?.unsubscribe();
      timer = undefined;
    };
  });
}
