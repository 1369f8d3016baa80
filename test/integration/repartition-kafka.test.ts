import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../src/processor/define-processor.js';
import { repartition } from '../../src/processor/repartition.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import { counting } from '../../src/streams/counting.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { tumbling } from '../../src/streams/tumbling.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });
const SIZE = 1_000;
const BOUND = 300;

interface Click {
  user: string;
  page: string;
  ts: number;
  i: number;
}

describe('repartition on real Kafka', () => {
  it('counts per page over 6 partitions equal a plain loop, with actors failing upstream and downstream', async () => {
    const [raw] = fc.sample(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: BOUND })), { minLength: 2_000, maxLength: 2_000 }),
      { seed: 4242, numRuns: 1 },
    );
    let clock = 1_000_000;
    const clicks: Click[] = raw.map(([user, page, jitter], i) => {
      clock += 7;
      return { user: `u${user}`, page: `/p${page}`, ts: clock - jitter, i };
    });
    const failUp = new Set([311, 977, 1500]);
    const failDown = new Set([120, 1203, 1888]);

    const log = new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger);
    const topic = uniqueName('clicks');
    const admin = log.admin();
    await admin.ensureTopics([{ name: topic, partitions: 6 }]);
    await admin.close();
    const producer = log.producer();
    for (let i = 0; i < clicks.length; i += 100) {
      await producer.send(topic, clicks.slice(i, i + 100).map((c) => ({ key: c.user, value: JSON.stringify(c) })));
    }
    await producer.close();

    const failedUp = new Set<number>();
    const failedDown = new Set<number>();
    const counts = new Map<string, number>();
    let late = 0;
    let failures = 0;
    const app = createTributary({
      log,
      logger,
      restartBackoff: { minMs: 10, maxMs: 50 },
      processors: [
        defineProcessor<string | null, Click>({
          id: uniqueName('views'),
          source: { topics: topic, timestamp: (r) => r.value.ts },
          eventTime: { outOfOrdernessMs: BOUND },
          commitIntervalMs: 100,
          pipeline: (records: Observable<StreamRecord<string | null, Click>>) =>
            records.pipe(
              map((r) => {
                if (failUp.has(r.value.i) && !failedUp.has(r.value.i)) {
                  failedUp.add(r.value.i);
                  throw new Error(`upstream failure at ${r.value.i}`);
                }
                return { page: r.value.page, timestamp: r.timestamp, i: r.value.i };
              }),
            ),
          sinks: repartition<{ page: string; timestamp: number; i: number }>({
            name: 'by-page',
            key: (v) => v.page,
            partitions: 6,
            pipeline: (views, ctx: PipelineContext) =>
              views.pipe(
                map((r) => {
                  if (failDown.has(r.value.i) && !failedDown.has(r.value.i)) {
                    failedDown.add(r.value.i);
                    throw new Error(`downstream failure at ${r.value.i}`);
                  }
                  return r;
                }),
                tumbling({ size: SIZE, key: (r) => r.value.page, aggregate: counting(), clock: ctx.clock, holds: ctx.holds, late: () => void late++ }),
              ),
            sinks: toFunction('page-views', (items: readonly { key: string; windowStart: number; value: number }[]) => {
              for (const w of items) {
                const id = `${w.key}@${w.windowStart}`;
                if (counts.has(id)) expect(w.value).toBe(counts.get(id));
                counts.set(id, w.value);
              }
            }),
          }),
        }),
      ],
    });
    app.lifecycle.subscribe((e) => e.type === 'partition.failed' && failures++);
    await app.start();
    await app.finishInput({ timeoutMs: 90_000 });
    await app.stop();

    const reference = new Map<string, number>();
    for (const c of clicks) {
      const id = `${c.page}@${Math.floor(c.ts / SIZE) * SIZE}`;
      reference.set(id, (reference.get(id) ?? 0) + 1);
    }
    expect(late).toBe(0);
    expect(failures).toBe(failUp.size + failDown.size);
    expect(counts).toEqual(reference);
  }, 180_000);
});
