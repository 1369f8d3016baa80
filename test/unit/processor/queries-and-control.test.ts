import { scan, map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
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
    expect(answer).toEqual({ owned: true, partition: partitionForKey('x', 3), found: true, value: 3, stale: false });
    expect(app.processor('counts').query('no-such-state', 'x').found).toBe(false);
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
    expect(await app.query('views', 'no-such-store', 'u1')).toMatchObject({ found: false });
    await app.stop();
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
