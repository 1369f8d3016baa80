import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { RejectionReason } from './envelope.js';

/** How many rejections are logged one by one per window before the rest are summed up. */
const LOG_BURST = 20;
const LOG_WINDOW_MS = 10_000;

/**
 * Counts and logs rejected inbound messages: `tributary_cluster_rejected_total{reason}` in the
 * app's registry, and a warning naming the subject and the reason. Logging is rate-limited (20
 * lines per 10 s, then one line saying how many were not logged), so a flood of garbage cannot
 * flood the log; the counter counts every one.
 *
 * @example
 * const rejections = new ClusterRejections(app.metrics.registry, logger);
 * rejections.reject('forged-sender', "from 'a' on the subject of 'b'", msg.subject);
 */
export class ClusterRejections {
  private readonly counter: Counter<'reason'>;
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(
    registry: Registry,
    private readonly logger: Logger,
  ) {
    const existing = registry.getSingleMetric('tributary_cluster_rejected_total');
    this.counter =
      (existing as Counter<'reason'> | undefined) ??
      new Counter({
        name: 'tributary_cluster_rejected_total',
        help: 'Inbound cluster messages rejected (malformed, oversized, forged sender, wrong version, ...), by reason.',
        labelNames: ['reason'],
        registers: [registry],
      });
  }

  /** Counts one rejected message and logs why (rate-limited). Never throws. */
  reject(reason: RejectionReason, detail: string, subject: string): void {
    try {
      this.counter.inc({ reason });
      const now = Date.now();
      if (now - this.windowStart > LOG_WINDOW_MS) {
        if (this.suppressed > 0) this.logger.warn({ suppressed: this.suppressed }, 'more cluster messages were rejected (not logged one by one)');
        this.windowStart = now;
        this.logged = 0;
        this.suppressed = 0;
      }
      if (this.logged < LOG_BURST) {
        this.logged++;
        this.logger.warn({ reason, detail, subject }, 'cluster message rejected');
      } else {
        this.suppressed++;
      }
    } catch {
      // Counting must never take the subscription down.
    }
  }
}
