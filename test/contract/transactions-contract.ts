/**
 * The transactions contract (`TransactionalProducer` in src/connectors/log.ts), one suite run
 * against MemoryLog and a real Kafka broker (transactions.contract.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ProducerFencedError, type LogConnector, type LogRecord, type TransactionalProducer } from '../../src/connectors/log.js';
import { uniqueName } from '../helpers/names.js';
import { readTopic } from './read-topic.js';

export interface TransactionsTarget {
  readonly connect: () => LogConnector;
}

/** Every record of a partition, read through the log's partition reader (read-committed). */
async function readPartition(log: LogConnector, topic: string, partition: number): Promise<LogRecord[]> {
  const reader = log.reader();
  try {
    const records: LogRecord[] = [];
    const end = await reader.endOffset({ topic, partition });
    await reader.read({ topic, partition }, 0, end, (batch) => void records.push(...batch));
    return records;
  } finally {
    await reader.close();
  }
}

const values = (records: readonly LogRecord[]): string[] => records.map((r) => r.value?.toString() ?? '');

export function transactionsContract(name: string, target: TransactionsTarget): void {
  describe(`transactions contract: ${name}`, () => {
    const producers: TransactionalProducer[] = [];
    const log = target.connect();
    const transactional = (id: string): TransactionalProducer => {
      const producer = log.transactionalProducer!(id);
      producers.push(producer);
      return producer;
    };

    afterEach(async () => {
      for (const p of producers.splice(0)) await p.close().catch(() => undefined);
    });

    async function topic(partitions = 1): Promise<string> {
      const name = uniqueName('txn');
      const admin = log.admin();
      await admin.ensureTopics([{ name, partitions }]);
      await admin.close();
      return name;
    }

    it('keeps the writes of an aborted transaction from read-committed readers, and their offsets consumed', async () => {
      const out = await topic();
      const input = await topic();
      const group = uniqueName('txn-group');
      const txn = transactional(uniqueName('txn-id'));
      await txn.begin();
      await txn.send(out, [{ value: 'aborted-1' }, { value: 'aborted-2' }]);
      const appended = await txn.append(out, 0, [{ value: 'aborted-3' }]);
      await txn.sendOffsets(group, [{ topic: input, partition: 0, offset: 7, metadata: 'aborted' }]);
      await txn.abort();

      await txn.begin();
      const committedAt = await txn.append(out, 0, [{ value: 'committed' }]);
      await txn.commit();

      // Aborted records and the abort's control record took offsets: the committed one comes after them.
      expect(appended).toBe(2);
      expect(committedAt).toBeGreaterThan(appended);
      expect(values(await readTopic(log, out, 1))).toEqual(['committed']);
      const read = await readPartition(log, out, 0);
      expect(values(read)).toEqual(['committed']);
      expect(read[0].offset).toBe(committedAt);
      const [offset] = await log.groupConsumer({ groupId: group, topics: [input] }).committed([{ topic: input, partition: 0 }]);
      expect(offset.offset).toBe(-1);
    });

    it('makes the writes of a committed transaction visible, in order, with the offsets sent with it committed', async () => {
      const out = await topic(2);
      const input = await topic();
      const group = uniqueName('txn-group');
      const txn = transactional(uniqueName('txn-id'));
      await txn.begin();
      const base = await txn.append(out, 1, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
      await txn.send(out, [{ value: '3', partition: 0 }]);
      await txn.sendOffsets(group, [{ topic: input, partition: 0, offset: 42, metadata: '{"wm":5}' }]);

      // Open: nothing visible yet, nothing committed.
      expect(await readPartition(log, out, 1)).toEqual([]);
      const consumer = log.groupConsumer({ groupId: group, topics: [input] });
      expect((await consumer.committed([{ topic: input, partition: 0 }]))[0].offset).toBe(-1);

      await txn.commit();
      const read = await readPartition(log, out, 1);
      expect(values(read)).toEqual(['1', '2']);
      expect(read.map((r) => r.offset)).toEqual([base, base + 1]);
      expect(values(await readPartition(log, out, 0))).toEqual(['3']);
      const [offset] = await consumer.committed([{ topic: input, partition: 0 }]);
      expect(offset).toMatchObject({ offset: 42, metadata: '{"wm":5}' });
    });

    it('keeps from group consumers the records of an aborted transaction that began before another aborted one but ended after it', async () => {
      const out = await topic();
      const first = transactional(uniqueName('txn-a'));
      const second = transactional(uniqueName('txn-b'));
      await first.begin();
      await first.append(out, 0, [{ value: 'aborted-first' }]);
      await second.begin();
      await second.append(out, 0, [{ value: 'aborted-second' }]);
      await second.abort();
      await first.abort(); // the transaction that began first ends last (a killed owner's, aborted by the next)
      const committed = transactional(uniqueName('txn-c'));
      await committed.begin();
      await committed.append(out, 0, [{ value: 'committed' }]);
      await committed.commit();
      expect(values(await readTopic(log, out, 1))).toEqual(['committed']);
      expect(values(await readPartition(log, out, 0))).toEqual(['committed']);
    });

    it('fences a zombie: a new producer with the same transactional id aborts its open transaction and refuses its later calls', async () => {
      const out = await topic();
      const input = await topic();
      const group = uniqueName('txn-group');
      const id = uniqueName('txn-id');
      const zombie = transactional(id);
      await zombie.begin();
      await zombie.send(out, [{ value: 'zombie-1' }]);

      const owner = transactional(id);
      await owner.init();
      await expect(zombie.send(out, [{ value: 'zombie-2' }])).rejects.toBeInstanceOf(ProducerFencedError);
      await expect(zombie.sendOffsets(group, [{ topic: input, partition: 0, offset: 9 }])).rejects.toBeInstanceOf(ProducerFencedError);
      await expect(zombie.commit()).rejects.toBeInstanceOf(ProducerFencedError);

      await owner.begin();
      await owner.send(out, [{ value: 'owner' }]);
      await owner.sendOffsets(group, [{ topic: input, partition: 0, offset: 3 }]);
      await owner.commit();

      expect(values(await readTopic(log, out, 1))).toEqual(['owner']);
      expect(values(await readPartition(log, out, 0))).toEqual(['owner']);
      const [offset] = await log.groupConsumer({ groupId: group, topics: [input] }).committed([{ topic: input, partition: 0 }]);
      expect(offset.offset).toBe(3);
    });
  });
}
