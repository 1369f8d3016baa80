import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import type { LifecycleEvent } from '../../src/processor/lifecycle-event.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import { PartitionStalledError } from '../../src/supervision/errors.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });

interface Event {
  readonly k: string;
  readonly i: number;
}

describe('the liveness watchdog on Kafka', () => {
  it('restarts the one partition whose sink hangs while the others keep flowing, and nothing is lost', async () => {
    const log = new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger);
    const topic = uniqueName('stall-in');
    const admin = log.admin();
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    await admin.close();
    const producer = log.producer();
    // Keys 'a', 'b', 'f' land on partitions 1, 2 and 0 of 3 (murmur2).
    const events: Event[] = Array.from({ length: 300 }, (_, i) => ({ k: 'abf'[i % 3], i }));
    await producer.send(topic, events.map((e) => ({ key: e.k, value: JSON.stringify(e) })));
    await producer.close();

    const delivered = new Map<number, number>();
    let hung = false;
    const lifecycle: LifecycleEvent[] = [];
    let othersAtStall = -1;
    const app = createTributary({
      log,
      logger,
      restartBackoff: { minMs: 10, maxMs: 50 },
      supervision: { stallTimeoutMs: 2_000 },
      processors: [
        defineProcessor<string | null, Event>({
          id: uniqueName('stall-p'),
          source: { topics: topic },
          commitIntervalMs: 100,
          maxBatchRecords: 20,
          pipeline: (records) => records.pipe(map((r) => r.value)),
          sinks: toFunction('results', (items: readonly Event[]) => {
            if (!hung && items.some((e) => e.k === 'a')) {
              hung = true;
              return new Promise<void>(() => undefined); // never settles
            }
            for (const e of items) delivered.set(e.i, (delivered.get(e.i) ?? 0) + 1);
          }),
        }),
      ],
    });
    app.lifecycle.subscribe((e) => {
      lifecycle.push(e);
      if (e.type === 'partition.stalled') othersAtStall = [...delivered.keys()].filter((i) => events[i].k !== 'a').length;
    });
    await app.start();
    await app.finishInput({ timeoutMs: 60_000 });
    await app.stop();

    const stalls = lifecycle.filter((e) => e.type === 'partition.stalled');
    expect(stalls).toHaveLength(1);
    const failed = lifecycle.filter((e) => e.type === 'partition.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ partition: stalls[0].type === 'partition.stalled' ? stalls[0].partition : -1, error: expect.any(PartitionStalledError) as unknown });
    // While 'a' hung, 'b' and 'f' went on: all 200 of theirs were through before the stall was noticed.
    expect(othersAtStall).toBe(200);
    // Nothing lost; only 'a' (replayed from its commit) may see a record twice.
    expect([...delivered.keys()].sort((x, y) => x - y)).toEqual(events.map((e) => e.i));
    for (const [i, n] of delivered) if (events[i].k !== 'a') expect(n).toBe(1);
  }, 90_000);
});
