import { TributaryError } from '../errors.js';

/**
 * Two topics a processor joins partition by partition do not have the same partition count (or
 * the table's topic does not exist): a start-up error naming both topics and their counts.
 * Permanent: a restart meets the same topics.
 *
 * @example
 * // CoPartitioningError: processor priced: topic orders (4 partitions) and the topic rates of its table 'rates' (2 partitions) are not co-partitioned ...
 */
export class CoPartitioningError extends TributaryError {
  constructor(
    readonly processorId: string,
    readonly topic: string,
    readonly partitions: number,
    readonly tableTopic: string,
    readonly tablePartitions: number | undefined,
    table: string,
    /** The processor is a repartition stage (its topic is the internal one). */
    stage = false,
  ) {
    super(
      tablePartitions === undefined
        ? `processor ${processorId}: the topic ${tableTopic} of its table '${table}' does not exist`
        : `processor ${processorId}: topic ${topic} (${partitions} partitions) and the topic ${tableTopic} of its table '${table}' (${tablePartitions} partitions) ` +
            `are not co-partitioned: partition p of ${topic} joins partition p of ${tableTopic}, so both need the same partition count and the same keys' partitioner. ` +
            (stage
              ? `Give the repartition that writes ${topic} partitions: ${tablePartitions}, `
              : `Repartition the stream by the join key into ${tablePartitions} partitions (sinks: repartition({ key, partitions: ${tablePartitions}, tables: { ${table} }, pipeline })), `) +
            `or read ${tableTopic} as a globalTable() (every partition on every node)`,
      { permanent: true },
    );
  }
}
