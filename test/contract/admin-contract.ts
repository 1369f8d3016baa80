// The admin contract (`LogAdmin`) beyond topic creation, run against MemoryLog and real Kafka.
import { describe, expect, it } from 'vitest';
import type { LogConnector } from '../../src/connectors/log.js';
import { uniqueName } from '../helpers/names.js';
import { readTopic } from './read-topic.js';

const offsetsOf = (offsets: readonly { partition: number; offset: number }[]): number[] =>
  [...offsets].sort((a, b) => a.partition - b.partition).map((o) => o.offset);

export function adminContract(name: string, target: { readonly connect: () => LogConnector }): void {
  describe(`admin contract on ${name}`, () => {
    it('deletes the records below an offset: the log start moves up to it, never down and never past the end, and readers start there', async () => {
      const log = target.connect();
      const topic = uniqueName('delete-records');
      const admin = log.admin();
      try {
        await admin.ensureTopics([{ name: topic, partitions: 2 }]);
        const producer = log.producer();
        await producer.send(topic, Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `a${i}` })));
        await producer.send(topic, Array.from({ length: 3 }, (_, i) => ({ partition: 1, value: `b${i}` })));
        await producer.close();
        expect(offsetsOf(await admin.startOffsets(topic))).toEqual([0, 0]);

        await admin.deleteRecords(topic, [{ partition: 0, offset: 4 }]);
        expect(offsetsOf(await admin.startOffsets(topic))).toEqual([4, 0]);
        await admin.deleteRecords(topic, [{ partition: 0, offset: 2 }]); // below the log start: nothing changes
        await admin.deleteRecords(topic, [{ partition: 1, offset: 99 }]); // past the end: up to the end
        expect(offsetsOf(await admin.startOffsets(topic))).toEqual([4, 3]);
        expect(offsetsOf(await admin.endOffsets(topic))).toEqual([10, 3]);

        // An unknown partition rejects the call, and nothing of it is deleted.
        await expect(admin.deleteRecords(topic, [{ partition: 0, offset: 6 }, { partition: 7, offset: 1 }])).rejects.toThrow();
        expect(offsetsOf(await admin.startOffsets(topic))).toEqual([4, 3]);

        const records = await readTopic(log, topic, 6);
        expect(records.map((r) => `${r.partition}:${r.offset}:${r.value!.toString()}`)).toEqual(['0:4:a4', '0:5:a5', '0:6:a6', '0:7:a7', '0:8:a8', '0:9:a9']);

        // The partition reader (restores, tables) asked from 0 reads from the log start, and knows the end.
        const reader = log.reader();
        try {
          const read: string[] = [];
          await reader.read({ topic, partition: 0 }, 0, 10, (batch) => void read.push(...batch.map((r) => `${r.offset}:${r.value!.toString()}`)));
          expect(read).toEqual(['4:a4', '5:a5', '6:a6', '7:a7', '8:a8', '9:a9']);
          expect(await reader.endOffset({ topic, partition: 0 })).toBe(10);
          expect(await reader.endOffset({ topic, partition: 1 })).toBe(3); // everything deleted
          let none = 0;
          await reader.read({ topic, partition: 1 }, 0, 3, (batch) => void (none += batch.length));
          expect(none).toBe(0);
        } finally {
          await reader.close();
        }
      } finally {
        await admin.close();
      }
    });
  });
}
