import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import type { LogRecord } from '../../src/connectors/log.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../src/processor/define-processor.js';
import { repartition } from '../../src/processor/repartition.js';
import { toTopic } from '../../src/sinks/topic-sink.js';
import { counting } from '../../src/streams/counting.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { tumbling } from '../../src/streams/tumbling.js';
import { readTopic } from '../contract/read-topic.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });
const SIZE = 1_000;

interface Click {
  readonly user: string;
  readonly page: string;
  readonly ts: number;
  readonly i: number;
}
interface View {
  readonly page: string;
  readonly timestamp: number;
  readonly i: number;
}
interface Count {
  readonly page: string;
  readonly windowStart: number;
  readonly views: number;
}

describe("guarantee: 'exactly-once' behind a repartition on Kafka", () => {
  it('counts each window once, equal to a plain loop, with actors failing upstream and downstream (the downstream stage reads a transactional topic)', async () => {
    const [raw] = fc.sample(fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 7 })), { minLength: 1_500, maxLength: 1_500 }), { seed: 2020, numRuns: 1 });
    const clicks: Click[] = raw.map(([user, page], i) => ({ user: `u${user}`, page: `/p${page}`, ts: 1_000_000 + i * 7, i }));
    const failUp = new Set([211, 900]);
    const failDown = new Set([333, 1204]);
    const failed = new Set<string>();
    const failOnce = (where: string, i: number, at: ReadonlySet<number>): void => {
      if (at.has(i) && !failed.has(`${where}${i}`)) {
        failed.add(`${where}${i}`);
        throw new Error(`injected ${where} failure at ${i}`);
      }
    };

    const log = new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger);
    const topic = uniqueName('eos-clicks');
    const output = uniqueName('eos-views');
    const admin = log.admin();
    await admin.ensureTopics([
      { name: topic, partitions: 4 },
      { name: output, partitions: 2 },
    ]);
    await admin.close();
    const producer = log.producer();
    for (let i = 0; i < clicks.length; i += 100) await producer.send(topic, clicks.slice(i, i + 100).map((c) => ({ key: c.user, value: JSON.stringify(c) })));
    await producer.close();

    let failures = 0;
    const app = createTributary({
      log,
      logger,
      restartBackoff: { minMs: 10, maxMs: 50 },
      processors: [
        defineProcessor<string | null, Click>({
          id: uniqueName('eos-views'),
          guarantee: 'exactly-once',
          source: { topics: topic, timestamp: (r) => r.value.ts },
          commitIntervalMs: 200,
          pipeline: (records: Observable<StreamRecord<string | null, Click>>) =>
            records.pipe(
              map((r): View => {
                failOnce('up', r.value.i, failUp);
                return { page: r.value.page, timestamp: r.timestamp, i: r.value.i };
              }),
            ),
          sinks: repartition<View>({
            name: 'by-page',
            key: (v) => v.page,
            partitions: 3,
            pipeline: (views: Observable<StreamRecord<string, View>>, ctx: PipelineContext) =>
              views.pipe(
                map((r) => {
                  failOnce('down', r.value.i, failDown);
                  return r;
                }),
                tumbling({ size: SIZE, key: (r) => r.value.page, aggregate: counting(), clock: ctx.clock, holds: ctx.holds }),
                map((w): Count => ({ page: w.key, windowStart: w.windowStart, views: w.value })),
              ),
            sinks: toTopic<Count>(output, { key: (c) => c.page }),
          }),
        }),
      ],
    });
    app.lifecycle.subscribe((e) => e.type === 'partition.failed' && failures++);
    await app.start();
    await app.finishInput({ timeoutMs: 90_000 });
    await app.stop();

    const expected = new Map<string, number>();
    for (const c of clicks) {
      const id = `${c.page}@${Math.floor(c.ts / SIZE) * SIZE}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    // Through a group consumer (kafkajs, read-committed by default), then everything there is, read-committed.
    await readTopic(log, output, expected.size);
    const reader = log.reader();
    const records: LogRecord[] = [];
    for (const partition of [0, 1]) await reader.read({ topic: output, partition }, 0, await reader.endOffset({ topic: output, partition }), (batch) => void records.push(...batch));
    await reader.close();
    const windows = records.map((r) => JSON.parse(r.value!.toString()) as Count);
    const ids = windows.map((w) => `${w.page}@${w.windowStart}`);
    expect(failures).toBeGreaterThanOrEqual(failUp.size + failDown.size);
    expect(new Set(ids).size).toBe(ids.length); // each window once
    expect(new Map(windows.map((w) => [`${w.page}@${w.windowStart}`, w.views]))).toEqual(expected);
  }, 180_000);
});
