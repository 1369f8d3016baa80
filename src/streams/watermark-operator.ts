import { Observable, type OperatorFunction } from 'rxjs';
import type { ResolvedEventTime } from './event-time-options.js';

/** What the shared skeleton gives an event-time operator's logic. Internal. */
export interface WatermarkEnv<R> {
  /** Sends a result downstream. */
  readonly emit: (result: R) => void;
  /** The operator's own watermark: the last advance it has applied (not the clock's, see below). */
  readonly watermark: () => number;
  /**
   * What a record is judged late against: the operator's watermark, or behind a repartition the
   * higher watermark of the upstream partition that wrote the record (see
   * {@link PipelineScope.lateBound}).
   */
  readonly lateWatermark: () => number;
  /** True once the subscriber is closed (unsubscribed, errored or completed): stop firing. */
  readonly closed: () => boolean;
}

/** The per-subscription logic of an event-time operator. Internal. */
export interface WatermarkLogic<T> {
  /** One element with its (validated) event time, judged against `env.watermark()`. */
  next(element: T, timestamp: number): void;
  /** The watermark moved to `watermark` (`Infinity` at the end): fire everything now due, in order. */
  advance(watermark: number): void;
  /** Unsubscribed: drop all state. Holds are kept (see below). */
  teardown(): void;
}

/**
 * The subscription skeleton shared by every event-time operator (windows, keyed process):
 *
 * 1. subscribe to the source **first**, then to the clock's advances, so that the operator is
 *    notified after every event-time operator upstream of it (see {@link WatermarkClock});
 * 2. keep the operator's own watermark, moved only when the operator applies an advance. A
 *    record is judged late against it, not against `clock.current`: while an advance is being
 *    delivered, results an upstream operator fires for it are not late here, because this
 *    operator has not applied that advance yet;
 * 3. without a user clock, observe each element's event time on a private clock after the
 *    element is processed (the runtime's order: deliver, then observe);
 * 4. on source completion, apply `+Infinity` (every window fires) and complete;
 * 5. a throw from user code (extractors, aggregators, callbacks) becomes an error notification.
 *
 * Teardown drops state and timers but does not release offset holds: a pipeline torn down on
 * revocation or failure must not let a last commit pass records its open windows needed.
 */
export function watermarkOperator<T, R>(
  config: ResolvedEventTime<T>,
  create: (env: WatermarkEnv<R>) => WatermarkLogic<T>,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const { clock, observeOwn } = config.clockFor();
      let watermark = clock.current;
      let stopped = false;
      const logic = create({
        emit: (result) => subscriber.next(result),
        watermark: () => watermark,
        lateWatermark: () => {
          const bound = config.lateBound();
          return bound !== undefined && bound > watermark ? bound : watermark;
        },
        closed: () => stopped || subscriber.closed,
      });
      const fail = (err: unknown): void => {
        if (stopped) return;
        stopped = true;
        subscriber.error(err);
      };
      const advance = (next: number): void => {
        if (stopped || !(next > watermark)) return;
        watermark = next;
        try {
          logic.advance(next);
        } catch (err) {
          fail(err);
        }
      };
      const sourceSubscription = source.subscribe({
        next: (element) => {
          if (stopped) return;
          try {
            const time = config.timestamp(element);
            logic.next(element, time);
            if (observeOwn) clock.observe(time);
          } catch (err) {
            fail(err);
          }
        },
        error: fail,
        complete: () => {
          advance(Infinity);
          if (stopped) return;
          stopped = true;
          subscriber.complete();
        },
      });
      // After the source: upstream event-time operators registered during source.subscribe().
      const clockSubscription = stopped ? undefined : clock.advances.subscribe(advance);
      advance(clock.current); // the clock may have moved while the source was being subscribed
      return () => {
        stopped = true;
        sourceSubscription.unsubscribe();
        clockSubscription?.unsubscribe();
        logic.teardown();
      };
    });
}
