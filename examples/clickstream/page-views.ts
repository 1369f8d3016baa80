import { map, share, type Observable } from 'rxjs';
import { counting, tumbling, type PipelineContext, type StreamRecord } from 'tributary';
import { MINUTE_MS, type Click } from './click.js';

/** The `page-views` output. */
export interface PageView {
  readonly page: string;
  /** `floor(ts / 60000) × 60000`. */
  readonly windowStart: number;
  /** `windowStart + 60000`, exclusive. */
  readonly windowEnd: number;
  readonly views: number;
}

/** What the page stage returns: the same results for the output and for the top-pages stage. */
export type PageViewsOutputs = { readonly 'page-views': Observable<PageView>; readonly 'by-window': Observable<PageView> };

/**
 * The page stage, on the partitions of the repartition by page: views per page per one-minute
 * tumbling window, fired when the stage's watermark (the minimum over every input partition)
 * passes the window's end. One record per (page, window) with at least one view.
 *
 * The results go both to the `page-views` output and on to the top-pages stage.
 *
 * @example
 * pipeline: (views, ctx) => pageViewsStage(views, ctx),
 */
export function pageViewsStage(
  clicks: Observable<StreamRecord<string, Click>>,
  _ctx: PipelineContext,
): PageViewsOutputs {
  const counts = clicks.pipe(
    tumbling<StreamRecord<string, Click>, number, string>({ size: MINUTE_MS, key: (r) => r.value.page, aggregate: counting(), store: 'page-views' }),
    map((w): PageView => ({ page: w.key, windowStart: w.windowStart, windowEnd: w.windowEnd, views: w.value })),
    share(),
  );
  return { 'page-views': counts, 'by-window': counts };
}
