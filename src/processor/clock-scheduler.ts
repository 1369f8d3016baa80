import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import type { SupervisorClock } from '../supervision/clock.js';

/**
 * An RxJS scheduler whose time and timers are a {@link SupervisorClock}'s: what a processor's
 * processing-time operators (the idle watermark, `context.scheduler`) run on when the app is
 * given a clock. On the system clock it behaves as `asyncScheduler`; on a `SimulatedClock`
 * (the test driver's) time moves only when the test advances it.
 *
 * @example
 * const scheduler = clockScheduler(new SimulatedClock());
 * advanceOnIdle({ clock: watermarks, idleTimeout: 30_000, scheduler });
 */
export function clockScheduler(clock: SupervisorClock): SchedulerLike {
  const scheduler: SchedulerLike = {
    now: () => clock.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      return new ClockAction<T>(clock, work).schedule(state, delay);
    },
  };
  return scheduler;
}

/** One scheduled piece of work; `schedule` again from inside `work` re-arms it (RxJS' contract). */
class ClockAction<T> extends Subscription implements SchedulerAction<T> {
  private timer: unknown;
  private armed = false;

  constructor(
    private readonly clock: SupervisorClock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super(() => this.disarm());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.disarm();
    this.armed = true;
    const handle = this.clock.setTimeout(() => {
      this.armed = false;
      if (!this.closed) this.work.call(this, state);
    }, Math.max(0, delay));
    // Like asyncScheduler's timers on the system clock, never what keeps the process alive.
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.timer = handle;
    return this;
  }

  private disarm(): void {
    if (this.armed) this.clock.clearTimeout(this.timer);
    this.armed = false;
  }
}
