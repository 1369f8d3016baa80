import { randomBytes } from 'node:crypto';
import type { LogConnector, LogRecord } from '../../src/connectors/log.js';

/**
 * Every record now in each of `topics` (missing topics read as empty): one consumer with a fresh
 * group reads them from the beginning up to each partition's end offset, taken before it starts.
 */
export async function readTopics(log: LogConnector, topics: readonly string[], timeoutMs = 180_000): Promise<Map<string, LogRecord[]>> {
  const result = new Map<string, LogRecord[]>(topics.map((t) => [t, []]));
  const ends = new Map<string, number>();
  const admin = log.admin();
  try {
    for (const topic of topics) {
      if ((await admin.partitionCount(topic)) === undefined) continue;
      for (const end of await admin.endOffsets(topic)) if (end.offset > 0) ends.set(`${topic}:${end.partition}`, end.offset);
    }
  } finally {
    await admin.close();
  }
  if (ends.size === 0) return result;
  const wanted = [...new Set([...ends.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))];
  const positions = new Map<string, number>();
  const done = (): boolean => [...ends].every(([key, end]) => (positions.get(key) ?? 0) >= end);
  const consumer = log.groupConsumer({ groupId: `chaos-reader-${randomBytes(4).toString('hex')}`, topics: wanted, fromBeginning: true });
  let crashed: Error | undefined;
  await consumer.start({
    onAssigned: async () => {},
    onRevoked: async () => {},
    onBatch: async (batch) => {
      const key = `${batch.topic}:${batch.partition}`;
      const end = ends.get(key) ?? 0;
      const records = result.get(batch.topic)!;
      let position = positions.get(key) ?? 0;
      for (const record of batch.records) {
        // A batch refetched after a rebalance may repeat records: keep each offset once.
        if (record.offset < position || record.offset >= end) continue;
        records.push(record);
        position = record.offset + 1;
      }
      positions.set(key, position);
    },
    onCrash: (error) => {
      crashed = error;
    },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done()) {
      if (crashed) throw crashed;
      if (Date.now() > deadline) {
        const behind = [...ends].filter(([key, end]) => (positions.get(key) ?? 0) < end).map(([key, end]) => `${key} at ${positions.get(key) ?? 0} of ${end}`);
        throw new Error(`reading ${wanted.join(', ')} timed out: ${behind.join('; ')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await consumer.stop();
  }
  return result;
}
