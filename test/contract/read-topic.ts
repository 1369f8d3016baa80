import type { LogConnector, LogRecord } from '../../src/connectors/log.js';
import { uniqueName } from '../helpers/names.js';

/** Retries `check` (an assertion) until it passes or `timeoutMs` runs out; then rethrows its last failure. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 30_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** Reads a topic from the beginning, through the log's own group consumer, until `count` records have come. */
export async function readTopic(log: LogConnector, topic: string, count: number, timeoutMs = 30_000): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  const consumer = log.groupConsumer({ groupId: uniqueName('reader'), topics: [topic], fromBeginning: true });
  await consumer.start({
    onAssigned: async () => {},
    onRevoked: async () => {},
    onBatch: async (batch) => void records.push(...batch.records),
  });
  try {
    await eventually(() => {
      if (records.length < count) throw new Error(`read ${records.length} of ${count} records from ${topic}`);
    }, timeoutMs);
  } finally {
    await consumer.stop();
  }
  return records;
}
