import { Subject, filter, map, tap, type Observable } from 'rxjs';
import type { LateInfo, PipelineContext, StreamRecord } from 'tributary';
import { MINUTE_MS, minuteOf, type Click } from './click.js';
import { sessions, type Session } from './sessions.js';

type ClickRecord = StreamRecord<string | null, Click>;

/** What the first stage returns: sessions, and the on-time clicks on their way to the page stage. */
export type ClicksStageOutputs = {
  readonly sessions: Observable<Session>;
  readonly 'by-page': Observable<Click>;
};

/**
 * The first stage, on the input partitions (keyed by user): decides once, here, whether a click
 * is late, computes sessions, and forwards the on-time clicks to the repartition by page.
 *
 * **The late rule.** A click belongs to two windows: its one-minute window (page-views, and
 * through them top-pages) and its user's session. It is late when either has already fired,
 * judged against this partition's watermark (max event time seen − 5,000 ms) from before the
 * click arrived:
 *
 * 1. its minute window has ended: `floor(ts / 60000) × 60000 + 60000 <= watermark`; or
 * 2. it would join a session of its user that has already fired (the session operator finds it
 *    late: within 30 minutes of a session that fired).
 *
 * A late click goes to the late output once and into no result: not into a session, not into a
 * page view, not into top-pages. Deciding it here, on the partition that reads it, makes the
 * outputs consistent with each other, and the page stage can never find a click late itself:
 * its watermark (the minimum over the input partitions) is never ahead of the watermark this
 * click was judged against, which was behind the end of its minute.
 *
 * @example
 * pipeline: (clicks, ctx) => clicksStage(clicks, ctx),
 */
export function clicksStage(clicks: Observable<ClickRecord>, ctx: PipelineContext): ClicksStageOutputs {
  // Clicks reach the session operator through this subject, synchronously, before the page
  // stage's filter asks whether the session operator found them late.
  const toSessions = new Subject<ClickRecord>();
  let lateForSession = false;
  const sessions$ = toSessions.pipe(
    sessions(ctx, (r, info) => {
      lateForSession = true;
      ctx.late(r, info);
    }),
  );
  const onTime$ = clicks.pipe(
    filter((r) => {
      const watermark = ctx.clock.current;
      if (minuteOf(r.timestamp) + MINUTE_MS <= watermark) {
        const info: LateInfo = { operator: 'page-views', timestamp: r.timestamp, watermark, offset: r.offset };
        ctx.late(r, info);
        return false;
      }
      lateForSession = false;
      toSessions.next(r);
      return !lateForSession;
    }),
    tap({ complete: () => toSessions.complete(), error: (err: unknown) => toSessions.error(err) }),
    map((r) => r.value),
  );
  return { sessions: sessions$, 'by-page': onTime$ };
}
