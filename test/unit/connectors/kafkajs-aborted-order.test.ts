import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { dropAbortedRecords, type DecodedMessage, type DecodedPartition } from '../../../src/connectors/kafka/kafkajs-aborted-order.js';

// kafkajs' own batch: what its consumer delivers from a decoded Fetch response's partition.
const Batch = createRequire(import.meta.url)('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, partition: object) => { messages: DecodedMessage[]; lastOffset(): string };

const data = (offset: number, producerId: string): DecodedMessage => ({ offset: String(offset), isControlRecord: false, batchContext: { producerId, inTransaction: true } });
// A control record's key: version 0, then type 0 (abort) or 1 (commit).
const marker = (offset: number, producerId: string, type: 'abort' | 'commit' = 'abort'): DecodedMessage =>
  ({ offset: String(offset), key: Buffer.from([0, 0, 0, type === 'abort' ? 0 : 1]), isControlRecord: true, batchContext: { producerId, inTransaction: true } }) as DecodedMessage;

/**
 * A repartition partition after a node was killed with two transactions open on it (producers A
 * and B, one per upstream partition), aborted by the next owners' InitProducerId; then the next
 * owner of A's transactional id (same producer id, new epoch) commits records of its own.
 */
function partition(): DecodedPartition {
  return {
    messages: [
      data(10, 'A'), data(11, 'B'), data(12, 'A'), data(13, 'B'),
      marker(14, 'A'), marker(15, 'B'),
      data(16, 'A'), data(17, 'A'), marker(18, 'A', 'commit'), // committed by A's next owner
    ],
    abortedTransactions: [
      { producerId: 'B', firstOffset: '11' },
      { producerId: 'A', firstOffset: '10' },
    ],
  };
}

const delivered = (fetchedOffset: number, p: DecodedPartition): string[] =>
  new Batch('t', String(fetchedOffset), { partition: 0, highWatermark: '19', ...p }).messages.map((m) => `${m.batchContext!.producerId}@${m.offset}`);

describe('kafkajs read-committed batches (dropAbortedRecords)', () => {
  for (const fetchedOffset of [10, 12, 13]) {
    it(`a fetch from offset ${fetchedOffset}, inside both aborted transactions: no aborted record, every committed one`, () => {
      const p = partition();
      dropAbortedRecords(p);
      expect(delivered(fetchedOffset, p)).toEqual(['A@16', 'A@17']);
    });
  }

  it('kafkajs alone gets it wrong when the fetch starts inside both (why the fix is there)', () => {
    const p = partition();
    p.abortedTransactions!.sort((a, b) => Number(a.firstOffset) - Number(b.firstOffset));
    // One aborted transaction opened per record: B's opens late (an aborted record comes through).
    expect(delivered(13, p)).not.toEqual(['A@16', 'A@17']);
  });

  it('keeps the offsets of the dropped records (the consumer moves past them)', () => {
    const p = partition();
    dropAbortedRecords(p);
    const batch = new Batch('t', '10', { partition: 0, highWatermark: '19', ...p });
    expect(batch.lastOffset()).toBe('18');
  });

  it('leaves a partition with no aborted transaction as it is', () => {
    const p: DecodedPartition = { messages: [data(0, 'A'), marker(1, 'A')], abortedTransactions: [] };
    dropAbortedRecords(p);
    expect(delivered(0, p)).toEqual(['A@0']);
  });
});
