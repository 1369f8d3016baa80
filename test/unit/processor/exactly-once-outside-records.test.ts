import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../../src/processor/define-processor.js';
import { toTopic } from '../../../src/sinks/topic-sink.js';
import { counting } from '../../../src/streams/counting.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import type { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });

interface Click {
  readonly i: number;
  readonly ts: number;
}
interface Count {
  readonly windowStart: number;
  readonly count: number;
}

/**
 * What happens while a commit's checkpoint is being written (inside its changelog append, in the
 * partition's transaction), each time one is: the partition's watermark advanced outside any
 * record, as `advanceOnIdle` or a timer does, and maybe a record taken as well.
 */
type DuringCheckpoint = (moment: { clock: WatermarkClock; send: (click: Click) => Promise<void> }) => Promise<void>;

/**
 * One partition, exactly-once, 1-second tumbling counts (a window store, so a changelog) with an
 * out-of-orderness so large that records never fire a window: only what `during` does, and the
 * end of the input, fire them. The clicks `before` are taken; the next checkpoints run `during`
 * (one per entry); the commit of that transaction applies and then the partition is killed
 * (its commit throws after applying: it restarts, restores the committed state and replays, as a
 * new process would); the input is then finished. Returns the counts read back, read-committed.
 */
async function killAfterCommit(before: readonly Click[], during: readonly DuringCheckpoint[]): Promise<Count[]> {
  const memory = new MemoryLog();
  memory.createTopic('clicks', 1);
  memory.createTopic('counts', 1);
  const send = (click: Click): Promise<void> => memory.producer().send('clicks', [{ key: null, value: JSON.stringify(click) }]);
  let clock: WatermarkClock | undefined;
  let pipelines = 0;
  const seen: Array<Set<number>> = [];
  const pending = [...during];
  let armed = false;
  let killed = false;
  const log = Object.create(memory) as MemoryLog;
  log.transactionalProducer = (id: string) => {
    const producer = memory.transactionalProducer(id);
    const append = producer.append.bind(producer);
    producer.append = async (topic, partition, records) => {
      const now = armed && topic.endsWith('-changelog') ? pending.shift() : undefined;
      if (now) await now({ clock: clock!, send });
      if (pending.length === 0) armed = false;
      return append(topic, partition, records);
    };
    const commit = producer.commit.bind(producer);
    producer.commit = async () => {
      await commit();
      if (armed || pending.length > 0 || killed || during.length === 0) return;
      // The transaction whose checkpoints ran `during` is committed: the process dies now.
      killed = true;
      throw new Error('killed right after its commit');
    };
    return producer;
  };
  const app = createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 5 },
    processors: [
      defineProcessor<string | null, Click>({
        id: 'counts',
        guarantee: 'exactly-once',
        source: { topics: 'clicks', timestamp: (r) => r.value.ts },
        eventTime: { outOfOrdernessMs: 1_000_000 },
        commitIntervalMs: 5,
        pipeline: (records: Observable<StreamRecord<string | null, Click>>, ctx: PipelineContext) => {
          clock = ctx.clock;
          const mine = new Set<number>();
          seen[pipelines++] = mine;
          return records.pipe(
            map((r) => {
              mine.add(r.value.i);
              // Armed in the batch that takes the last of them: its changes are in the next checkpoint.
              if (pipelines === 1 && mine.size === before.length) armed = true;
              return r;
            }),
            tumbling({ size: 1_000, key: () => 'all', aggregate: counting(), clock: ctx.clock, holds: ctx.holds }),
            map((w): Count => ({ windowStart: w.windowStart, count: w.value })),
          );
        },
        sinks: toTopic<Count>('counts', { key: (c) => String(c.windowStart) }),
      }),
    ],
  });
  await app.start();
  for (const click of before) await send(click);
  // `during` runs inside the changelog appends of the checkpoints that follow.
  await eventually(() => expect(killed).toBe(true));
  // Restarted (finishInput waits for it to restore and replay up to the end of the input).
  await eventually(() => expect(pipelines).toBe(2));
  await app.processor('counts').finishInput({ timeoutMs: 20_000 });
  await app.stop();
  return memory.read('counts').map((r) => JSON.parse(r.value!.toString()) as Count);
}

describe("guarantee: 'exactly-once': results emitted outside any record", () => {
  const before: Click[] = [
    { i: 0, ts: 100 },
    { i: 1, ts: 200 },
    { i: 2, ts: 1_500 },
  ];

  it('are never emitted again after a kill when the end of the input fires every window during the commit\'s checkpoint', async () => {
    const counts = await killAfterCommit(before, [async ({ clock }) => clock.close()]);
    expect(counts).toEqual([
      { windowStart: 0, count: 2 },
      { windowStart: 1_000, count: 1 },
    ]);
  });

  it('are never emitted again after a kill when an idle advance fires a window and a record is taken during the commit\'s checkpoint', async () => {
    const counts = await killAfterCommit(before, [
      async ({ clock, send }) => {
        clock.advanceTo(1_000); // idle: the window [0, 1000) fires, outside any record
        await send({ i: 3, ts: 1_600 }); // and a record arrives before the checkpoint is written
        await eventually(() => expect(clock.maxEventTime).toBe(1_600));
      },
    ]);
    expect(counts).toEqual([
      { windowStart: 0, count: 2 },
      { windowStart: 1_000, count: 2 },
    ]);
  });

  it('are never emitted again after a kill when idle advances fire windows during two checkpoints in a row of one commit', async () => {
    const counts = await killAfterCommit(before, [
      async ({ clock }) => clock.advanceTo(1_000), // fires [0, 1000): the commit checkpoints again
      async ({ clock }) => clock.advanceTo(2_000), // and during that one, [1000, 2000) fires
    ]);
    expect(counts).toEqual([
      { windowStart: 0, count: 2 },
      { windowStart: 1_000, count: 1 },
    ]);
  });
});
