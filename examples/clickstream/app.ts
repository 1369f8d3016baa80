import { share, type Observable } from 'rxjs';
import { defineProcessor, json, repartition, type ProcessorDefinition, type Sink } from 'tributary';
import type { ExampleApp, ExampleRunOptions } from '../shared/example-app.js';
import { natsLiveSink } from '../shared/nats-live-sink.js';
import { clickSchema, type Click } from './click.js';
import { clicksStage } from './clicks-stage.js';
import { generateClickLines } from './generate.js';
import { pageViewsStage, type PageView } from './page-views.js';
import { topPagesStage, type TopPages } from './top-pages.js';

/** The outputs, in the spec's order. */
export const CLICKSTREAM_OUTPUTS = ['page-views', 'sessions', 'top-pages'] as const;

/**
 * The clickstream processors: three stages, each a processor of its own (consumer group
 * `<prefix>clickstream`, `...-by-page`, `...-by-page-by-window`):
 *
 * ```
 * clicks (keyed by user) ── clicksStage: late rule, sessions ──► sessions
 *        │ on-time clicks, repartitioned by page
 *        ▼
 * by-page ── pageViewsStage: 1-minute counts per page ──► page-views
 *        │ page-view results, repartitioned by minute
 *        ▼
 * by-window ── topPagesStage: top 3 per minute ──► top-pages (and NATS, with --nats)
 * ```
 *
 * Late clicks go to `sinks.late` from the first stage (the later ones never find any: see
 * {@link clicksStage}).
 *
 * @example
 * createTributary({ processors: clickstreamProcessors({ prefix: '', inputTopic: 'clicks', partitions: 4, outOfOrdernessMs: 5_000, sinks }) });
 */
export function clickstreamProcessors(options: ExampleRunOptions): ProcessorDefinition<string | null, unknown>[] {
  const { prefix, inputTopic, partitions, outOfOrdernessMs } = options;
  const sink = (name: string): Sink<unknown> => {
    const found = options.sinks[name];
    if (!found) throw new Error(`clickstream: no sink for '${name}' (have: ${Object.keys(options.sinks).join(', ')})`);
    return found;
  };
  const late = sink('late');
  const topPagesSinks: Record<string, Sink<unknown>> = { 'top-pages': sink('top-pages'), late };
  if (options.natsUrl) topPagesSinks['top-pages-live'] = natsLiveSink<TopPages>(options.natsUrl, `${prefix}clickstream.top-pages`);

  const clicks = defineProcessor<string | null, Click>({
    id: `${prefix}clickstream`,
    source: { topics: inputTopic, value: json({ schema: clickSchema }), timestamp: (r) => r.value.ts },
    eventTime: { outOfOrdernessMs },
    pipeline: (records, ctx) => clicksStage(records, ctx),
    sinks: {
      sessions: sink('sessions'),
      late,
      'by-page': repartition<Click>({
        name: 'by-page',
        key: (click) => click.page,
        timestamp: (click) => click.ts,
        partitions,
        pipeline: (views, ctx) => pageViewsStage(views, ctx),
        sinks: {
          'page-views': sink('page-views'),
          late,
          'by-window': repartition<PageView>({
            name: 'by-window',
            // Every page of a minute must meet in one place to be ranked: keyed by the minute.
            key: (view) => String(view.windowStart),
            timestamp: (view) => view.windowEnd - 1,
            partitions,
            pipeline: (views, ctx): Record<string, Observable<TopPages>> => {
              const top = topPagesStage(views, ctx).pipe(share());
              return options.natsUrl ? { 'top-pages': top, 'top-pages-live': top } : { 'top-pages': top };
            },
            sinks: topPagesSinks,
          }),
        },
      }),
    },
  });
  return [clicks as ProcessorDefinition<string | null, unknown>];
}

/**
 * clickstream: page views per page per minute, sessions per user, and the top three pages of
 * every minute, from a stream of clicks (`{"userId", "page", "ts", "referrer"?}`).
 *
 * @example
 * // npm run example -- clickstream --input clicks.jsonl --output-dir out
 * import { clickstream } from './clickstream/app.js';
 * await runExample({ app: clickstream, input: 'clicks.jsonl', outputDir: 'out' });
 */
export const clickstream: ExampleApp = {
  name: 'clickstream',
  inputTopic: 'clicks',
  schema: clickSchema,
  keyOf: (record) => record.userId as string,
  timestampOf: (record) => record.ts as number,
  outputs: CLICKSTREAM_OUTPUTS,
  processors: clickstreamProcessors,
  generate: ({ count, seed }) => generateClickLines({ events: count, seed }),
};

export default clickstream;
