import type { Logger } from 'pino';
import type { LogConnector, PartitionReader, TopicPartition } from '../connectors/log.js';
import type { PartitionPipeline } from '../actors/partition-pipeline.js';
import { keyOf, type PartitionEntry } from './partition-entry.js';

/** How often a long {@link finishInput} says what it still waits for. */
const REPORT_EVERY_MS = 10_000;

/**
 * For a finite input: waits until every record now in `topics` is taken and complete on this
 * node, then ends each partition's input (watermark +∞, so every open window fires), waits for
 * the results and commits each partition (`commit`). While it waits it logs, every 10 s, the
 * partitions it waits for and why (not assigned here, behind the end, results unacknowledged);
 * the timeout's error names them too.
 */
export async function finishInput(
  options: {
    readonly log: LogConnector;
    readonly topics: readonly string[];
    readonly partitions: ReadonlyMap<string, PartitionEntry>;
    readonly commit: (entry: PartitionEntry, pipeline: PartitionPipeline) => Promise<void>;
    readonly logger: Logger;
  },
  timeoutMs = 600_000,
): Promise<void> {
  const { partitions } = options;
  const ends = await endOffsets(options.log, options.topics);
  const waitingFor = (): string[] =>
    [...ends].flatMap(([key, end]) => {
      const entry = partitions.get(key);
      if (!entry) return [`${key}: not assigned to this node`];
      if (end === 0) return [];
      const pipeline = entry.pipeline;
      if (!pipeline || !entry.accepting) return [`${key}: its actor is ${entry.state}`];
      if (pipeline.tracker.nextOffset < end) return [`${key}: at offset ${pipeline.tracker.nextOffset} of ${end}`];
      if (pipeline.tracker.pending > 0) return [`${key}: ${pipeline.tracker.pending} records wait for their results to be acknowledged`];
      return [];
    });
  const started = Date.now();
  let reported = started;
  for (let waiting = waitingFor(); waiting.length > 0; waiting = waitingFor()) {
    const now = Date.now();
    if (now - started > timeoutMs) throw new Error(`finishInput: not caught up with ${options.topics.join(', ')} within ${timeoutMs} ms; waiting for ${waiting.join('; ')}`);
    if (now - reported >= REPORT_EVERY_MS) {
      reported = now;
      options.logger.info({ waitingFor: waiting, waitedMs: now - started }, 'finishInput: still waiting');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const entry of partitions.values()) {
    entry.accepting = false;
    entry.pipeline?.end();
  }
  for (const entry of partitions.values()) {
    if (entry.pipeline) {
      await entry.pipeline.drain();
      await options.commit(entry, entry.pipeline);
    }
  }
}

async function endOffsets(log: LogConnector, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = log.admin();
  const reader = log.reader();
  const ends = new Map<string, number>();
  try {
    for (const topic of topics) {
      // A repartition topic is purged below its stage's committed offsets: no read starts below its log start.
      const starts = new Map((await admin.startOffsets(topic)).map((s) => [s.partition, s.offset]));
      for (const end of await admin.endOffsets(topic)) ends.set(keyOf(end), await afterLastRecord(reader, end, starts.get(end.partition) ?? 0, end.offset));
    }
  } finally {
    await admin.close();
    await reader.close();
  }
  return ends;
}

/**
 * The offset after the last record a read-committed reader gets between the log start `start`
 * and `end`: a topic written in transactions (an exactly-once upstream's, a repartition topic)
 * ends with control records (and maybe an aborted transaction's), which take offsets no consumer
 * ever receives. With none there (all purged, or control records only), 0: nothing left to take
 * (what was purged lies below the committed offsets), as for an empty partition.
 */
async function afterLastRecord(reader: PartitionReader, tp: TopicPartition, start: number, end: number): Promise<number> {
  for (let window = 64; ; window *= 4) {
    const from = Math.max(start, end - window);
    let last = -1;
    if (from < end) {
      await reader.read(tp, from, end, (records) => {
        if (records.length > 0) last = records[records.length - 1].offset;
      });
    }
    if (last >= 0) return last + 1;
    if (from <= start) return 0;
  }
}
