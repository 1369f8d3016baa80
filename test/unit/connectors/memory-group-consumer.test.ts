import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { GroupConsumerHandlers, LogRecord, PartitionBatch, TopicPartition } from '../../../src/connectors/log.js';
import {
  ClientStateError,
  InvalidOptionError,
  MemoryLog,
  UnknownTopicError,
} from '../../../src/connectors/memory/index.js';

/** Polls `condition` every millisecond; fails the test after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 1_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await sleep(1);
  }
}

const tpName = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

interface Recorder extends GroupConsumerHandlers {
  readonly batches: PartitionBatch[];
  readonly records: LogRecord[];
  readonly events: string[];
  readonly crashes: Error[];
  valuesOf(partition: number): string[];
}

/**
 * Handlers that record everything into their own lists and, when given, into a shared `log` of
 * `name:event` lines; `onBatch` runs `extra` (a commit, a pause...) after recording.
 */
function recorder(name: string, log: string[] = [], extra?: (batch: PartitionBatch) => Promise<void> | void): Recorder {
  const r: Recorder = {
    batches: [],
    records: [],
    events: log,
    crashes: [],
    valuesOf: (partition) => r.records.filter((x) => x.partition === partition).map((x) => x.value!.toString()),
    onAssigned: async (tps) => {
      log.push(`${name}:assigned ${tps.map(tpName).join(',')}`);
    },
    onRevoked: async (tps) => {
      log.push(`${name}:revoked ${tps.map(tpName).join(',')}`);
    },
    onBatch: async (batch) => {
      r.batches.push(batch);
      r.records.push(...batch.records);
      await extra?.(batch);
    },
    onCrash: (error) => {
      r.crashes.push(error);
    },
  };
  return r;
}

async function produce(log: MemoryLog, topic: string, partition: number, values: readonly string[]): Promise<void> {
  await log.producer().send(
    topic,
    values.map((value) => ({ value, partition })),
  );
}

const range = (from: number, to: number, prefix = '') =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('MemoryLog group consumer', () => {
  it('delivers each partition in offset order, in batches of at most maxBatchRecords', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    await produce(log, 't', 0, range(0, 25));
    await produce(log, 't', 1, range(0, 7));
    const r = recorder('a');
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 10 });
    await consumer.start(r);

    await until(() => r.records.length === 32);
    expect(r.valuesOf(0)).toEqual(range(0, 25));
    expect(r.valuesOf(1)).toEqual(range(0, 7));
    expect(r.batches.filter((b) => b.partition === 0).map((b) => b.records.length)).toEqual([10, 10, 5]);
    expect(r.batches.every((b) => b.highWatermark === (b.partition === 0 ? 25 : 7))).toBe(true);
    await consumer.stop();
  });

  it('waits for new records once caught up, without empty batches', async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    const r = recorder('a');
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    await consumer.start(r);
    await sleep(10);
    expect(r.batches).toHaveLength(0);

    await produce(log, 't', 0, ['x', 'y']);
    await until(() => r.records.length === 2);
    await produce(log, 't', 0, ['z']);
    await until(() => r.records.length === 3);
    await sleep(10);
    expect(r.batches.map((b) => b.records.length)).toEqual([2, 1]);
    expect(r.records.map((x) => x.offset)).toEqual([0, 1, 2]);
    await consumer.stop();
  });

  it('resumes a new consumer of the group from the committed offsets', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    await produce(log, 't', 0, range(0, 10));
    await produce(log, 't', 1, range(0, 4));
    const first = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const r1 = recorder('first');
    await first.start(r1);
    await until(() => r1.records.length === 14);
    await first.commit([{ topic: 't', partition: 0, offset: 6 }]);
    await first.stop();

    const second = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    expect(await second.committed([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])).toEqual([
      { topic: 't', partition: 0, offset: 6 },
      { topic: 't', partition: 1, offset: -1 },
    ]);
    const r2 = recorder('second');
    await second.start(r2);
    await until(() => r2.records.length === 8);
    expect(r2.valuesOf(0)).toEqual(range(6, 10));
    expect(r2.valuesOf(1)).toEqual(range(0, 4));
    await second.stop();

    const otherGroup = log.groupConsumer({ groupId: 'other', topics: ['t'] });
    expect(await otherGroup.committed([{ topic: 't', partition: 0 }])).toEqual([{ topic: 't', partition: 0, offset: -1 }]);
  });

  it('starts at the end of partitions without a committed offset when fromBeginning is false', async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    await produce(log, 't', 0, ['old']);
    const r = recorder('a');
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'], fromBeginning: false });
    await consumer.start(r);
    await produce(log, 't', 0, ['new']);
    await until(() => r.records.length === 1);
    expect(r.valuesOf(0)).toEqual(['new']);
    await consumer.stop();
  });

  it('splits partitions between two members by range and revokes everything before assigning again', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 4);
    const events: string[] = [];
    const a = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const b = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const ra = recorder('a', events);
    const rb = recorder('b', events);
    await a.start({
      ...ra,
      onRevoked: async (tps) => {
        await sleep(5); // a slow revoke must still finish before anyone is assigned
        await ra.onRevoked(tps);
      },
    });
    await b.start(rb);

    expect(a.assignment().map(tpName)).toEqual(['t-0', 't-1']);
    expect(b.assignment().map(tpName)).toEqual(['t-2', 't-3']);
    expect(events).toEqual(['a:assigned t-0,t-1,t-2,t-3', 'a:revoked t-0,t-1,t-2,t-3', 'a:assigned t-0,t-1', 'b:assigned t-2,t-3']);

    events.length = 0;
    await a.stop();
    // Both revoke in parallel (b's is the quicker), and b is assigned only after both are done.
    expect(events).toEqual(['b:revoked t-2,t-3', 'a:revoked t-0,t-1', 'b:assigned t-0,t-1,t-2,t-3']);
    expect(a.assignment()).toEqual([]);
    await b.stop();
    expect(events.at(-1)).toBe('b:revoked t-0,t-1,t-2,t-3');
  });

  it('hands partitions over from the committed offsets when a member leaves, losing nothing', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 4);
    const producer = log.producer();
    const sent: string[] = [];
    const send = async (n: number) => {
      const values = range(sent.length, sent.length + n, 'v');
      sent.push(...values);
      await producer.send('t', values.map((value) => ({ key: value, value })));
    };
    const delivered: string[] = [];
    const consumers = [0, 1].map(() => log.groupConsumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 7 }));
    const committing = (i: number) =>
      recorder(`m${i}`, [], async (batch) => {
        delivered.push(...batch.records.map((r) => r.value!.toString()));
        await sleep(0);
        const last = batch.records.at(-1)!;
        await consumers[i].commit([{ topic: last.topic, partition: last.partition, offset: last.offset + 1 }]);
      });

    await send(100);
    await consumers[0].start(committing(0));
    await send(100);
    await consumers[1].start(committing(1));
    expect(consumers.map((c) => c.assignment().length)).toEqual([2, 2]);
    await send(100);
    await until(() => delivered.length >= 200);
    await consumers[0].stop();
    expect(consumers[1].assignment()).toHaveLength(4);
    await send(100);
    await until(() => delivered.length >= sent.length);
    await sleep(5);

    expect(delivered).toHaveLength(sent.length); // every batch was committed before its revoke: no replays
    expect(new Set(delivered)).toEqual(new Set(sent));
    const ends = await log.admin().endOffsets('t');
    expect(await consumers[1].committed(ends)).toEqual(ends);
    await consumers[1].stop();
  });

  it('drops commits for partitions the member does not own', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    const a = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const b = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    await a.start(recorder('a'));
    await b.start(recorder('b'));
    await a.commit([
      { topic: 't', partition: 0, offset: 3 },
      { topic: 't', partition: 1, offset: 5 },
    ]);
    expect((await a.committed([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])).map((o) => o.offset)).toEqual([
      3, -1,
    ]);
    await b.stop();
    await a.stop();
    await a.commit([{ topic: 't', partition: 0, offset: 9 }]);
    expect((await b.committed([{ topic: 't', partition: 0 }]))[0].offset).toBe(3);
    await expect(a.commit([{ topic: 't', partition: 0, offset: -2 }])).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('pauses a partition after the batch in flight and resumes it where it stopped', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 5 });
    const r = recorder('a', [], (batch) => {
      if (batch.partition === 0 && batch.records[0].offset === 0) consumer.pause({ topic: 't', partition: 0 });
    });
    await produce(log, 't', 0, range(0, 20));
    await consumer.start(r);
    await produce(log, 't', 1, range(0, 3));
    await until(() => r.valuesOf(1).length === 3);
    await produce(log, 't', 0, range(20, 30));
    await sleep(10);
    expect(r.valuesOf(0)).toEqual(range(0, 5));

    consumer.resume({ topic: 't', partition: 0 });
    await until(() => r.valuesOf(0).length === 30);
    expect(r.valuesOf(0)).toEqual(range(0, 30));
    await consumer.stop();
  });

  it('keeps delivering other partitions while one partition is slow', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const r = recorder('a', [], async (batch) => {
      if (batch.partition === 0) await gate;
    });
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 2 });
    await consumer.start(r);
    await produce(log, 't', 0, range(0, 6));
    await produce(log, 't', 1, range(0, 6));
    await until(() => r.valuesOf(1).length === 6);
    expect(r.valuesOf(0)).toEqual(['0', '1']);

    release();
    await until(() => r.valuesOf(0).length === 6);
    await consumer.stop();
  });

  it('on stop, waits for the batch in flight, revokes every partition and delivers nothing more', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 3);
    const events: string[] = [];
    const r = recorder('a', events, async () => {
      events.push('a:batch started');
      await sleep(10);
      events.push('a:batch done');
    });
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    await consumer.start(r);
    await produce(log, 't', 1, ['x']);
    await until(() => events.includes('a:batch started'));
    await consumer.stop();

    expect(events).toEqual(['a:assigned t-0,t-1,t-2', 'a:batch started', 'a:batch done', 'a:revoked t-0,t-1,t-2']);
    expect(consumer.assignment()).toEqual([]);
    await produce(log, 't', 1, ['y']);
    await sleep(5);
    expect(r.records).toHaveLength(1);
    await consumer.stop(); // idempotent
  });

  it('reports a failing onBatch to onCrash, stops that member and lets the others take over', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    const boom = new Error('poison');
    const failing = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const healthy = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const events: string[] = [];
    const rf = recorder('f', events, (batch) => {
      if (batch.records.some((x) => x.value!.toString() === 'bad')) throw boom;
    });
    const rh = recorder('h', events);
    await failing.start(rf);
    await healthy.start(rh);
    expect(failing.assignment().map(tpName)).toEqual(['t-0']);

    await produce(log, 't', 0, ['bad']);
    await until(() => rf.crashes.length === 1);
    expect(rf.crashes[0]).toBe(boom);
    expect(failing.assignment()).toEqual([]);
    await until(() => healthy.assignment().length === 2);
    await until(() => rh.valuesOf(0).length === 1); // nothing was committed: the healthy member re-reads it
    await produce(log, 't', 0, ['later']);
    await until(() => rh.valuesOf(0).length === 2);
    expect(rf.records.map((x) => x.value!.toString())).toEqual(['bad']);
    expect(events.filter((e) => e.startsWith('f:'))).toEqual(['f:assigned t-0,t-1', 'f:revoked t-0,t-1', 'f:assigned t-0']);

    await failing.stop();
    await healthy.stop();
  });

  it('rejects start when onAssigned throws, and leaves the group', async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const boom = new Error('cannot assign');
    await expect(
      consumer.start({ ...recorder('a'), onAssigned: () => Promise.reject(boom) }),
    ).rejects.toBe(boom);
    const other = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    await other.start(recorder('b'));
    expect(other.assignment().map(tpName)).toEqual(['t-0']);
    await other.stop();
  });

  it('seeks a partition, before fetching starts or while it runs', async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    await produce(log, 't', 0, range(0, 10));
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    const r = recorder('a');
    await consumer.start({
      ...r,
      onAssigned: async (tps) => consumer.seek(tps[0], 7),
    });
    await until(() => r.records.length === 3);
    expect(r.valuesOf(0)).toEqual(['7', '8', '9']);

    consumer.seek({ topic: 't', partition: 0 }, 8);
    await until(() => r.records.length === 5);
    expect(r.valuesOf(0)).toEqual(['7', '8', '9', '8', '9']);
    expect(() => consumer.seek({ topic: 't', partition: 0 }, -1)).toThrow(InvalidOptionError);
    await consumer.stop();
  });

  it('refuses to subscribe to an unknown topic, naming it, unless topics are auto-created', async () => {
    const strict = new MemoryLog();
    const consumer = strict.groupConsumer({ groupId: 'g', topics: ['missing'] });
    const error = await consumer.start(recorder('a')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTopicError);
    expect((error as Error).message).toContain('"missing"');

    const lenient = new MemoryLog({ autoCreateTopics: true, defaultPartitions: 2 });
    const auto = lenient.groupConsumer({ groupId: 'g', topics: ['missing'] });
    await auto.start(recorder('a'));
    expect(auto.assignment()).toHaveLength(2);
    await auto.stop();
  });

  it('rejects invalid options and a second start', async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    expect(() => log.groupConsumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 0 })).toThrow(/maxBatchRecords/);
    expect(() => log.groupConsumer({ groupId: 'g', topics: [] })).toThrow(InvalidOptionError);
    const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'] });
    await consumer.start(recorder('a'));
    await expect(consumer.start(recorder('a'))).rejects.toBeInstanceOf(ClientStateError);
    await consumer.stop();
  });

  // How fast is the memory bench's business (npm run bench -- memory); here only that all arrive.
  it('moves 200k records through two members, none missing', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 4);
    const producer = log.producer();
    for (let i = 0; i < 200; i++) {
      await producer.send(
        't',
        Array.from({ length: 1000 }, (_, j) => ({ key: `k${(i * 1000 + j) % 5000}`, value: 'x' })),
      );
    }
    let count = 0;
    const counting: GroupConsumerHandlers = {
      onAssigned: async () => {},
      onRevoked: async () => {},
      onBatch: async (batch) => {
        count += batch.records.length;
      },
    };
    const members = [0, 1].map(() => log.groupConsumer({ groupId: 'g', topics: ['t'] }));
    await members[0].start(counting);
    await members[1].start(counting);
    await until(() => count >= 200_000, 60_000);
    expect(count).toBeGreaterThanOrEqual(200_000); // uncommitted records moved to the second member are delivered again
    await Promise.all(members.map((m) => m.stop()));
  }, 90_000);
});
