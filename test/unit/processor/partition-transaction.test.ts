import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { PartitionTransaction, TransactionFailedError, transactionalIdOf } from '../../../src/processor/partition-transaction.js';

const logger = createLogger({ level: 'silent' });
const tp = { topic: 'orders', partition: 0 };

function setUp(): { log: MemoryLog; txn: PartitionTransaction; values: () => string[]; ended: Array<[string, number | undefined]> } {
  const log = new MemoryLog();
  log.createTopic('orders', 1);
  log.createTopic('out', 1);
  const ended: Array<[string, number | undefined]> = [];
  const txn = new PartitionTransaction({ log, groupId: 'totals', topicPartition: tp, logger, onEnded: (outcome, seconds) => void ended.push([outcome, seconds]) });
  return { log, txn, values: () => log.read('out').map((r) => r.value!.toString()), ended };
}

describe('PartitionTransaction', () => {
  it('is named <group>-<topic>-<partition>', () => {
    expect(transactionalIdOf('totals', tp)).toBe('totals-orders-0');
    expect(setUp().txn.transactionalId).toBe('totals-orders-0');
  });

  it('commits the writes issued before the commit was asked for, with the offset prepared once they are acknowledged; later writes wait for the next transaction', async () => {
    const { log, txn, values } = setUp();
    await txn.fence();
    const writes = txn.producerFor(txn.session);
    let acknowledged = false;
    void writes.send('out', [{ value: 'a' }]).then(() => (acknowledged = true));
    let sawAcknowledged: boolean | undefined;
    const committed = txn.commit(txn.session, () => {
      sawAcknowledged = acknowledged;
      return { ...tp, offset: 7, metadata: 'm' };
    });
    const later = writes.send('out', [{ value: 'b' }]);
    expect(await committed).toBe(true);
    await later;
    expect(sawAcknowledged).toBe(true);
    expect(values()).toEqual(['a']); // b is in the next transaction, still open
    expect((await log.groupConsumer({ groupId: 'totals', topics: ['orders'] }).committed([tp]))[0]).toMatchObject({ offset: 7, metadata: 'm' });
    expect(await txn.commit(txn.session, () => ({ ...tp, offset: 9 }))).toBe(true);
    expect(values()).toEqual(['a', 'b']);
  });

  it('aborts a transaction whose write failed: its later writes fail, the commit rejects, nothing of it is visible, and the next start registers a new producer', async () => {
    const { txn, values, ended } = setUp();
    await txn.fence();
    const writes = txn.producerFor(txn.session);
    await writes.send('out', [{ value: 'lost' }]);
    await expect(writes.send('missing-topic', [{ value: 'x' }])).rejects.toBeInstanceOf(TransactionFailedError);
    await expect(writes.send('out', [{ value: 'after' }])).rejects.toBeInstanceOf(TransactionFailedError);
    await expect(txn.commit(txn.session, () => ({ ...tp, offset: 1 }))).rejects.toBeInstanceOf(TransactionFailedError);
    expect(values()).toEqual([]);
    expect(await txn.fence()).toBe(true); // a new producer: the committed offset must be read again
    const next = txn.producerFor(txn.session);
    await next.send('out', [{ value: 'again' }]);
    await txn.commit(txn.session, () => ({ ...tp, offset: 1 }));
    expect(values()).toEqual(['again']);
    // What the metrics count: the aborted transaction, then the committed one with its duration.
    expect(ended.map(([outcome]) => outcome)).toEqual(['aborted', 'committed']);
    expect(ended[1][1]).toBeGreaterThanOrEqual(0);
  });

  it("refuses a write or a commit of a pipeline older than the partition's current one, and aborts what the older one left open", async () => {
    const { txn, values } = setUp();
    await txn.fence();
    const old = txn.session;
    const oldWrites = txn.producerFor(old);
    await oldWrites.send('out', [{ value: 'old' }]);
    expect(await txn.fence()).toBe(true); // the old pipeline's open transaction aborted, with its producer: a new one registers
    await expect(oldWrites.send('out', [{ value: 'late' }])).rejects.toThrow(/newer pipeline/);
    await expect(txn.commit(old, () => ({ ...tp, offset: 5 }))).rejects.toThrow(/newer pipeline/);
    const current = txn.producerFor(txn.session);
    await current.send('out', [{ value: 'new' }]);
    await txn.commit(txn.session, () => ({ ...tp, offset: 5 }));
    expect(values()).toEqual(['new']);
  });

  it('is fenced by a newer producer with the same transactional id (a new owner), and fails its transaction without making it permanent', async () => {
    const { log, txn, values, ended } = setUp();
    await txn.fence();
    const writes = txn.producerFor(txn.session);
    await writes.send('out', [{ value: 'zombie' }]);
    await log.transactionalProducer('totals-orders-0').init();
    const failure = await txn.commit(txn.session, () => ({ ...tp, offset: 3 })).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TransactionFailedError);
    expect((failure as TransactionFailedError).fenced).toBe(true);
    expect((failure as TransactionFailedError).permanent).toBe(false);
    expect(values()).toEqual([]);
    expect(ended).toEqual([['fenced', undefined]]);
  });
});
