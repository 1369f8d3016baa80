import { scan, map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { countByKey } from '../../../src/streams/count-by-key.js';
import { counting } from '../../../src/streams/counting.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });

function countingApp(log: MemoryLog, seen: number[]) {
  return createTributary({
    log,
    logger,
    processors: [
      defineProcessor<string | null, { n: number }>({
        id: 'counts',
        source: { topics: 'in' },
        pipeline: (records: Observable<StreamRecord<string | null, { n: number }>>, ctx: PipelineContext) => {
          const counts = new Map<string, number>();
          ctx.queryable('count-by-key', (key) => counts.get(key) ?? 0);
          return records.pipe(
            scan((_, r) => {
              counts.set(r.key ?? '', (counts.get(r.key ?? '') ?? 0) + 1);
              return r.value.n;
            }, 0),
            map((n) => n),
          );
        },
        sinks: toFunction('seen', (items: readonly number[]) => void seen.push(...items)),
      }),
    ],
  });
}

describe('interactive queries and control on one node', () => {
  it('answers a query for a key from the partition that holds it', async () => {
    const log = new MemoryLog();
    log.createTopic('in', 3);
    await log.producer().send('in', ['x', 'y', 'x', 'z', 'x'].map((key, n) => ({ key, value: JSON.stringify({ n }) })));
    const seen: number[] = [];
    const app = countingApp(log, seen);
    await app.start();
    await eventually(() => expect(seen).toHaveLength(5));
    const answer = app.processor('counts').query('count-by-key', 'x');
    expect(answer).toEqual({ owned: true, topic: 'in', partition: partitionForKey('x', 3), found: true, value: 3, stale: false });
    // A store the pipeline does not have is an error naming the ones it has, not a confident 'not found'.
    expect(() => app.processor('counts').query('no-such-state', 'x')).toThrow(/has no store 'no-such-state' \(its stores: count-by-key\)/);
    await app.stop();
  });

  it("answers from a window store with the key's open windows; found means the key was found", async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', 2);
    // Watermark stays below 2,000: the windows [0, 1000) and [1000, 2000) are open.
    await log.producer().send('clicks', [['u1', 10], ['u1', 20], ['u1', 1_500], ['u2', 30]].map(([key, ts]) => ({ key: key as string, value: JSON.stringify({ ts }) })));
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { ts: number }>({
          id: 'views',
          source: { topics: 'clicks', timestamp: (r) => r.value.ts },
          eventTime: { outOfOrdernessMs: 5_000 },
          pipeline: (records) => records.pipe(tumbling({ size: 1_000, aggregate: counting(), store: 'per-second' })),
          sinks: toFunction('out', () => undefined),
        }),
      ],
    });
    await app.start();
    await eventually(async () => {
      expect(await app.query('views', 'per-second', 'u1')).toMatchObject({
        found: true,
        value: [
          { windowStart: 0, value: 2 },
          { windowStart: 1_000, value: 1 },
        ],
      });
    });
    expect(await app.query('views', 'per-second', 'nobody')).toMatchObject({ found: false, value: undefined });
    await expect(app.query('views', 'no-such-store', 'u1')).rejects.toThrow(/has no store 'no-such-store' \(its stores: per-second\)/);
    await app.stop();
  });

  it('answers from the topic whose pipelines hold the store when a processor reads several topics with a pipeline each', async () => {
    const log = new MemoryLog();
    log.createTopic('persons', 2);
    log.createTopic('auctions', 3);
    await log.producer().send('persons', ['p1', 'p2', 'p1'].map((key) => ({ key, value: '{}' })));
    await log.producer().send('auctions', ['a1', 'a2', 'a1', 'a1'].map((key) => ({ key, value: '{}' })));
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, unknown>({
          id: 'ids',
          source: { topics: ['persons', 'auctions'] },
          // As the nexmark source stage: each topic's partitions build their own pipeline, with their own store.
          pipeline: (records: Observable<StreamRecord<string | null, unknown>>, ctx: PipelineContext) =>
            records.pipe(countByKey({ key: (r: StreamRecord<string | null, unknown>) => r.key ?? '', store: ctx.topic === 'persons' ? 'person-ids' : 'auction-ids' })),
          sinks: toFunction('out', () => undefined),
        }),
      ],
    });
    await app.start();
    try {
      await eventually(async () => {
        // 'auctions' is the second topic: the query goes to the key's partition of auctions (3 partitions), not of persons.
        expect(await app.query('ids', 'auction-ids', 'a1')).toMatchObject({ found: true, value: 3, partition: partitionForKey('a1', 3) });
        expect(await app.query('ids', 'person-ids', 'p1')).toMatchObject({ found: true, value: 2, partition: partitionForKey('p1', 2) });
      });
      expect(app.processor('ids').query('auction-ids', 'a2')).toMatchObject({ owned: true, topic: 'auctions', found: true, value: 1 });
    } finally {
      await app.stop();
    }
  });

  it('pauses and resumes a processor: nothing is taken while paused, everything after', async () => {
    const log = new MemoryLog();
    log.createTopic('in', 2);
    const seen: number[] = [];
    const app = countingApp(log, seen);
    await app.start();
    app.processor('counts').pause();
    app.processor('counts').pause(); // idempotent
    await log.producer().send('in', [1, 2, 3].map((n) => ({ key: `k${n}`, value: JSON.stringify({ n }) })));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    expect(app.status().processors[0].paused).toBe(true);
    app.processor('counts').resume();
    await eventually(() => expect(seen.sort()).toEqual([1, 2, 3]));
    await app.stop();
  });
});
