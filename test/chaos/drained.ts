import type { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { COUNT_PROCESSOR, COUNT_STAGE, Topics } from './count-topology.js';
import { FRAUD_PROCESSOR, FraudTopics } from './fraud-topology.js';

/** Waits until both consumer groups have committed the end of their input topics. */
export async function waitDrained(log: KafkaConnector, fraud: boolean, timeoutMs: number, say: (line: string) => void): Promise<boolean> {
  const admin = log.kafka.admin();
  await admin.connect();
  // A topic written in transactions (the repartition topic with --exactly-once) ends with control
  // records: its group commits the offset after its last record, never the end offset.
  const reader = log.reader();
  const afterLast = new Map<string, number>();
  const lastRecordEnd = async (topic: string, partition: number, end: number): Promise<number> => {
    const key = `${topic}:${partition}@${end}`;
    let found = afterLast.get(key);
    if (found === undefined) {
      let last = -1;
      await reader.read({ topic, partition }, Math.max(0, end - 64), end, (records) => {
        if (records.length > 0) last = records[records.length - 1].offset;
      });
      found = last >= 0 ? last + 1 : end;
      afterLast.set(key, found);
    }
    return found;
  };
  const deadline = Date.now() + timeoutMs;
  let lastReport = 0;
  try {
    for (;;) {
      const behind: string[] = [];
      // The fraud group's commit stops at the flush record itself: it stays buffered (nothing comes after it).
      const groups: Array<[string, string, number]> = [
        [COUNT_PROCESSOR, Topics.input, 0],
        [COUNT_STAGE, Topics.repartition, 0],
        ...(fraud ? [[FRAUD_PROCESSOR, FraudTopics.input, 1] as [string, string, number]] : []),
      ];
      for (const [groupId, topic, short] of groups) {
        try {
          const ends = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          for (const end of ends) {
            const c = committed?.partitions.find((p) => p.partition === end.partition);
            const at = c ? Number(c.offset) : -1;
            if (at < Number(end.high) - short && at < (await lastRecordEnd(topic, end.partition, Number(end.high))) - short) {
              behind.push(`${groupId} ${topic}:${end.partition} at ${at} of ${end.high}`);
            }
          }
        } catch (err) {
          behind.push(`${groupId}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (behind.length === 0) return true;
      if (Date.now() > deadline) {
        say(`not drained: ${behind.join('; ')}`);
        return false;
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        say(`  waiting for: ${behind.slice(0, 4).join('; ')}${behind.length > 4 ? ` (+${behind.length - 4})` : ''}`);
      }
      await sleep(500);
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
    await reader.close().catch(() => undefined);
  }
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
