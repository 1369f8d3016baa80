// The README's example, runnable: `npx tsx examples/page-views.ts` (embedded MemoryLog), or with
// TRIBUTARY_KAFKA_BROKERS=127.0.0.1:9092 on Kafka. Page views per page per minute, re-keyed by page.
import { map } from 'rxjs';
import { z } from 'zod';
import { counting, countByKey, createTributary, defineProcessor, json, KafkaConnector, MemoryLog, repartition, toFunction, tumbling } from 'tributary';

const Click = z.object({ userId: z.string(), page: z.string(), ts: z.number().int() });

const pageViews = defineProcessor<string | null, z.infer<typeof Click>>({
  id: 'page-views', // also the consumer group
  source: { topics: 'clicks', value: json({ schema: Click }), timestamp: (r) => r.value.ts },
  eventTime: { outOfOrdernessMs: 5_000 }, // watermark = max event time seen − 5 s
  pipeline: (clicks) => clicks.pipe(map((r) => ({ page: r.value.page, timestamp: r.timestamp }))),
  sinks: repartition<{ page: string; timestamp: number }>({
    name: 'by-page', // re-keyed by page through an internal topic, then a second stage
    key: (view) => view.page,
    partitions: 4,
    pipeline: (views) =>
      views.pipe(
        tumbling({ size: 60_000, aggregate: counting(), store: 'views-per-minute' }),
        map((w) => ({ page: w.key, windowStart: w.windowStart, views: w.value })),
      ),
    sinks: toFunction('print', (rows: readonly { page: string; windowStart: number; views: number }[]) => {
      for (const row of rows) console.log(`${new Date(row.windowStart).toISOString()} ${row.page} ${row.views}`);
    }),
  }),
});

// A table: clicks per user, kept forever in the store 'clicks-per-user' (logged to a compacted
// changelog, restored on restart), one update per user per commit interval.
const clicksPerUser = defineProcessor<string | null, z.infer<typeof Click>>({
  id: 'clicks-per-user',
  source: { topics: 'clicks', value: json({ schema: Click }), timestamp: (r) => r.value.ts },
  pipeline: (clicks) => clicks.pipe(countByKey({ store: 'clicks-per-user', emit: 'on-commit' })),
  sinks: toFunction('totals', (updates: readonly { key: string | null; value: number }[]) => {
    for (const u of updates) if (u.value % 9 === 0) console.log(`${u.key} has ${u.value} clicks`);
  }),
});

const brokers = process.env.TRIBUTARY_KAFKA_BROKERS;
const log = brokers ? new KafkaConnector({ brokers: brokers.split(',') }) : new MemoryLog();
const admin = log.admin();
await admin.ensureTopics([{ name: 'clicks', partitions: 4 }]);
await admin.close();
const producer = log.producer();
const start = Date.UTC(2026, 10, 26, 12, 0, 0);
await producer.send(
  'clicks',
  Array.from({ length: 1_000 }, (_, i) => ({
    key: `user-${i % 37}`,
    value: JSON.stringify({ userId: `user-${i % 37}`, page: ['/', '/pricing', '/docs'][i % 3], ts: start + i * 500 }),
  })),
);
await producer.close();

const app = createTributary({ processors: [pageViews, clicksPerUser], log, shutdownOnSignals: true });
await app.start();
await app.finishInput(); // a finite input: the watermark goes to +∞ and every window fires
await app.stop();
