import { randomBytes } from 'node:crypto';
import { MemoryLog, type LogConnector, type LogRecord, type PartitionReader } from 'tributary';

/** Options of {@link readTopics}. */
export interface ReadTopicsOptions {
  /** Consumer group of the reader (Kafka): a fresh one by default, so it reads from the beginning. */
  readonly groupId?: string;
  /** Give up after this long. Default 120,000 ms. */
  readonly timeoutMs?: number;
}

/**
 * Every record now in each of `topics` (topics that do not exist read as empty), through the
 * log's own consumer API: a MemoryLog is read directly; on Kafka one consumer with a fresh group
 * reads all the topics from the beginning until each partition's end offset, taken before it starts.
 *
 * @example
 * const records = await readTopics(log, ['page-views', 'late']);
 * records.get('page-views')?.length;
 */
export async function readTopics(log: LogConnector, topics: readonly string[], options: ReadTopicsOptions = {}): Promise<Map<string, LogRecord[]>> {
  const result = new Map<string, LogRecord[]>(topics.map((t) => [t, []]));
  if (log instanceof MemoryLog) {
    const admin = log.admin();
    for (const topic of topics) if ((await admin.partitionCount(topic)) !== undefined) result.set(topic, log.read(topic));
    return result;
  }
  // Where each partition ends now; topics that are empty (or missing) need no consumer at all.
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
  // A topic written in transactions (--exactly-once) ends with control records, and maybe an
  // aborted or still open transaction, that no read-committed consumer ever gets: read up to the
  // last record it does get.
  const reader = log.reader();
  try {
    for (const [key, end] of [...ends]) {
      const last = await afterLastRecord(reader, { topic: key.slice(0, key.lastIndexOf(':')), partition: Number(key.slice(key.lastIndexOf(':') + 1)) }, end);
      if (last > 0) ends.set(key, last);
      else ends.delete(key);
    }
  } finally {
    await reader.close();
  }
  if (ends.size === 0) return result;
  const wanted = [...new Set([...ends.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))];
  const positions = new Map<string, number>();
  const done = (): boolean => [...ends].every(([key, end]) => (positions.get(key) ?? 0) >= end);
  const consumer = log.groupConsumer({
    groupId: options.groupId ?? `reader-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    topics: wanted,
    fromBeginning: true,
  });
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
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
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

/** The offset after the last record a read-committed reader gets below `end` (0 when none). */
async function afterLastRecord(reader: PartitionReader, tp: { readonly topic: string; readonly partition: number }, end: number): Promise<number> {
  for (let window = 64; ; window *= 4) {
    const from = Math.max(0, end - window);
    let last = -1;
    await reader.read(tp, from, end, (records) => {
      if (records.length > 0) last = records[records.length - 1].offset;
    });
    if (last >= 0) return last + 1;
    if (from === 0) return 0;
  }
}
