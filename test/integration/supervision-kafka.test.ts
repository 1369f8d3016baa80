import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../src/processor/define-processor.js';
import type { LifecycleEvent } from '../../src/processor/lifecycle-event.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import { counting } from '../../src/streams/counting.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { tumbling } from '../../src/streams/tumbling.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });
const SIZE = 1_000;

interface Event {
  k: string;
  ts: number;
  i: number;
}

async function run(options: {
  events: Event[];
  failAt: ReadonlySet<number>;
  strategy: 'one-for-one' | 'one-for-all' | 'rest-for-one';
}): Promise<{ counts: Map<string, number>; events: LifecycleEvent[] }> {
  const log = new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger);
  const topic = uniqueName('sup-in');
  const admin = log.admin();
  await admin.ensureTopics([{ name: topic, partitions: 3 }]);
  await admin.close();
  const producer = log.producer();
  // Keys 'a', 'b', 'c' land on different partitions of 3 (murmur2): see the assertion on partitions below.
  for (let i = 0; i < options.events.length; i += 50) {
    await producer.send(topic, options.events.slice(i, i + 50).map((e) => ({ key: e.k, value: JSON.stringify(e) })));
  }
  await producer.close();
  const failed = new Set<number>();
  const counts = new Map<string, number>();
  const lifecycle: LifecycleEvent[] = [];
  const app = createTributary({
    log,
    logger,
    restartBackoff: { minMs: 10, maxMs: 50 },
    processors: [
      defineProcessor<string | null, Event>({
        id: uniqueName('sup-p'),
        source: { topics: topic, timestamp: (r) => r.value.ts },
        eventTime: { outOfOrdernessMs: 200 },
        restartStrategy: options.strategy,
        commitIntervalMs: 50,
        pipeline: (records: Observable<StreamRecord<string | null, Event>>, ctx: PipelineContext) =>
          records.pipe(
            map((r) => {
              if (options.failAt.has(r.value.i) && !failed.has(r.value.i)) {
                failed.add(r.value.i);
                throw new Error(`injected failure at event ${r.value.i}`);
              }
              return r;
            }),
            tumbling({ size: SIZE, key: (r) => r.value.k, aggregate: counting(), clock: ctx.clock, holds: ctx.holds, late: ctx.late }),
          ),
        sinks: toFunction('counts', (items: readonly { key: string; windowStart: number; value: number }[]) => {
          for (const w of items) {
            const id = `${w.key}@${w.windowStart}`;
            if (counts.has(id)) expect(w.value).toBe(counts.get(id)); // a re-emission is identical
            counts.set(id, w.value);
          }
        }),
      }),
    ],
  });
  app.lifecycle.subscribe((e) => lifecycle.push(e));
  await app.start();
  await app.finishInput({ timeoutMs: 60_000 });
  await app.stop();
  return { counts, events: lifecycle };
}

function reference(events: Event[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const id = `${e.k}@${Math.floor(e.ts / SIZE) * SIZE}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function seededEvents(seed: number, n: number): { events: Event[]; failAt: Set<number> } {
  const [raw] = fc.sample(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 200 })), { minLength: n, maxLength: n }), {
    seed,
    numRuns: 1,
  });
  let clock = 100_000;
  const events = raw.map(([k, jitter], i) => {
    clock += 20;
    return { k, ts: clock - jitter, i };
  });
  const [fails] = fc.sample(fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 4, maxLength: 4 }), { seed: seed + 1, numRuns: 1 });
  return { events, failAt: new Set(fails) };
}

const startsPerPartition = (events: LifecycleEvent[]) => {
  const starts = new Map<number, number>();
  for (const e of events) if (e.type === 'partition.started') starts.set(e.partition, (starts.get(e.partition) ?? 0) + 1);
  return starts;
};

describe('supervision on real Kafka', () => {
  it('an operator throwing at seeded random offsets gives the output of an uninterrupted run, restarts counted', async () => {
    const { events, failAt } = seededEvents(42, 600);
    const { counts, events: lifecycle } = await run({ events, failAt, strategy: 'one-for-one' });
    expect(counts).toEqual(reference(events));
    expect(lifecycle.filter((e) => e.type === 'partition.failed')).toHaveLength(failAt.size);
    expect(lifecycle.filter((e) => e.type === 'partition.restarting')).toHaveLength(failAt.size);
  }, 120_000);

  it('one-for-all restarts every partition actor of the processor when one fails', async () => {
    const { events } = seededEvents(7, 300);
    const failing = events.find((e) => e.k === 'a' && e.i > 150)!;
    const { counts, events: lifecycle } = await run({ events, failAt: new Set([failing.i]), strategy: 'one-for-all' });
    expect(counts).toEqual(reference(events));
    const starts = startsPerPartition(lifecycle);
    expect([...starts.values()]).toEqual([2, 2, 2]);
  }, 120_000);

  it('rest-for-one restarts the failed partition actor and those started after it only', async () => {
    const { events } = seededEvents(9, 300);
    const failing = events.find((e) => e.i > 150)!;
    const { counts, events: lifecycle } = await run({ events, failAt: new Set([failing.i]), strategy: 'rest-for-one' });
    expect(counts).toEqual(reference(events));
    const failedPartition = lifecycle.find((e) => e.type === 'partition.failed')!.partition;
    const order = lifecycle.filter((e) => e.type === 'partition.started').map((e) => e.partition).slice(0, 3);
    const starts = startsPerPartition(lifecycle);
    const position = order.indexOf(failedPartition);
    order.forEach((p, index) => expect(starts.get(p)).toBe(index >= position ? 2 : 1));
  }, 120_000);
});
