import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Gauge } from 'prom-client';

/** The event loop's delay over the last window, ms. */
export interface EventLoopLagFigures {
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/**
 * Measures how late the event loop runs (Node's `monitorEventLoopDelay`, 20 ms resolution): a
 * blocked loop stalls every partition at once, which no partition's watchdog can tell from a
 * hung sink. Exposed as `tributary_event_loop_lag_seconds{quantile="0.99"|"max"}` (over the last
 * `windowMs`, default 10 s) and in `/health`.
 *
 * @example
 * const lag = new EventLoopLag(metrics.eventLoopLag);
 * lag.start();
 * lag.figures(); // { p99Ms: 21.3, maxMs: 40.1, meanMs: 20.4 }
 */
export class EventLoopLag {
  private histogram: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last: EventLoopLagFigures = { p99Ms: 0, maxMs: 0, meanMs: 0 };

  /** @param gauge where each window's figures go (`tributary_event_loop_lag_seconds`). */
  constructor(
    private readonly gauge: Gauge<'quantile'>,
    private readonly windowMs = 10_000,
  ) {}

  start(): void {
    if (this.histogram) return;
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
    this.timer = setInterval(() => this.roll(), this.windowMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
  }

  /** The last complete window's figures (the current one's before the first window ends). */
  figures(): EventLoopLagFigures {
    if (this.last.maxMs === 0 && this.histogram) return read(this.histogram);
    return this.last;
  }

  private roll(): void {
    if (!this.histogram) return;
    this.last = read(this.histogram);
    this.histogram.reset();
    this.gauge.set({ quantile: '0.99' }, this.last.p99Ms / 1_000);
    this.gauge.set({ quantile: 'max' }, this.last.maxMs / 1_000);
  }
}

function read(h: IntervalHistogram): EventLoopLagFigures {
  const ms = (ns: number): number => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
  return { p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), meanMs: ms(h.mean) };
}
