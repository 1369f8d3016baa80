import type { LogConnector } from '../connectors/log.js';

/**
 * The partition count of each of a processor's source topics that exists (its stores'
 * changelogs get as many partitions, and a query maps a key to one of them).
 */
export async function partitionCounts(log: LogConnector, topics: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const admin = log.admin();
  try {
    for (const topic of topics) {
      const count = await admin.partitionCount(topic);
      if (count !== undefined) counts.set(topic, count);
    }
  } finally {
    await admin.close();
  }
  return counts;
}

/**
 * Downstream of a repartition: the upstream partitions (`topic:partition`) that feed every
 * partition of the stage, each of whose watermarks the stage's watermark waits for. Rejects
 * when an upstream topic does not exist.
 */
export async function upstreamPartitions(log: LogConnector, processorId: string, topics: readonly string[]): Promise<string[]> {
  const admin = log.admin();
  try {
    const ids: string[] = [];
    for (const topic of topics) {
      const count = await admin.partitionCount(topic);
      if (count === undefined) throw new Error(`upstream topic ${topic} of ${processorId} does not exist`);
      for (let p = 0; p < count; p++) ids.push(`${topic}:${p}`);
    }
    return ids;
  } finally {
    await admin.close();
  }
}
