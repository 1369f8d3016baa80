import { map, type Observable } from 'rxjs';
import { topN, tumbling, type PipelineContext, type StreamRecord } from 'tributary';
import { MINUTE_MS } from './click.js';
import type { PageView } from './page-views.js';

/** The `top-pages` output. */
export interface TopPages {
  readonly windowStart: number;
  readonly windowEnd: number;
  /** At most 3, most views first, ties by page name in code-unit order. */
  readonly top: ReadonlyArray<{ readonly page: string; readonly views: number }>;
}

/** Plain code-unit order (`a < b`), not locale-aware: `'/Z' < '/a' < '/é'`. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Most views first, then page name ascending in code-unit order. */
export function byViewsThenPage(a: PageView, b: PageView): number {
  return b.views - a.views || byCodeUnits(a.page, b.page);
}

/**
 * The top-pages stage, on the partitions of the repartition of page-views by minute: all the
 * page-view results of a minute meet in one partition (the key is the minute), and a one-minute
 * tumbling window keeps the three best. Its watermark is the minimum over every page-stage
 * partition, so a minute fires only once every page of it has been counted. A page-view result's event time is its window's last millisecond (`windowEnd − 1`), so
 * it lands in the same minute; it reaches this stage before the watermark that fired it, so it
 * is never late here.
 *
 * @example
 * pipeline: (views, ctx) => topPagesStage(views, ctx),
 */
export function topPagesStage(views: Observable<StreamRecord<string, PageView>>, _ctx: PipelineContext): Observable<TopPages> {
  return views.pipe(
    tumbling<StreamRecord<string, PageView>, readonly StreamRecord<string, PageView>[], string>({
      size: MINUTE_MS,
      // The record's own key, the minute: a minute's window is whole in its partition, and a query by minute finds it.
      key: (r) => r.key,
      aggregate: topN<StreamRecord<string, PageView>>({ n: 3, compare: (a, b) => byViewsThenPage(a.value, b.value) }),
      store: 'top-pages',
    }),
    map((w): TopPages => ({ windowStart: w.windowStart, windowEnd: w.windowEnd, top: w.value.map((r) => ({ page: r.value.page, views: r.value.views })) })),
  );
}
