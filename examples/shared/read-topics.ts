import { MemoryLog, type LogConnector, type LogRecord } from 'tributary';

/** Options of {@link readTopics} (kept for callers: the read no longer joins a group, nor waits). */
export interface ReadTopicsOptions {
  /** Consumer group of the reader (Kafka): a fresh one by default, so it reads from the beginning. */
  readonly groupId?: string;
  /** Give up after this long. Default 120,000 ms. */
  readonly timeoutMs?: number;
}

/**
 * Every record now in each of `topics` (topics that do not exist read as empty), read-committed:
 * a MemoryLog is read directly; on Kafka each partition is read with the log's partition reader,
 * from the beginning up to its end offset, taken before the read starts.
 *
 * @example
 * const records = await readTopics(log, ['page-views', 'late']);
 * records.get('page-views')?.length;
 */
export async function readTopics(log: LogConnector, topics: readonly string[], _options: ReadTopicsOptions = {}): Promise<Map<string, LogRecord[]>> {
  const result = new Map<string, LogRecord[]>(topics.map((t) => [t, []]));
  if (log instanceof MemoryLog) {
    const admin = log.admin();
    for (const topic of topics) if ((await admin.partitionCount(topic)) !== undefined) result.set(topic, log.read(topic));
    return result;
  }
  // Where each partition ends now; topics that are empty (or missing) need no read at all.
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
  // Read with the log's partition reader (read-committed, as restores read), not a group
  // consumer: kafkajs' consumer lets through records of an aborted transaction that starts before
  // others in the partition's aborted-transaction index (seen with --exactly-once after a kill:
  // the killed owner's first transaction, aborted last). A topic written in transactions ends with
  // control records, which the read skips.
  const reader = log.reader();
  try {
    for (const [key, end] of ends) {
      const topic = key.slice(0, key.lastIndexOf(':'));
      const partition = Number(key.slice(key.lastIndexOf(':') + 1));
      const records = result.get(topic)!;
      await reader.read({ topic, partition }, 0, end, (batch) => {
        for (const record of batch) records.push(record);
      });
    }
  } finally {
    await reader.close();
  }
  return result;
}

