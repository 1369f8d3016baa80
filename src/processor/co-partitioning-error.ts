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
  ) {
    super(
      tablePartitions === undefined
        ? `processor ${processorId}: the topic ${tableTopic} of its table '${table}' does not exist`
        : `processor ${processorId}: topic ${topic} (${partitions} partitions) and the topic ${tableTopic} of its table '${table}' (${tablePartitions} partitions) ` +
            `are not co-partitioned: partition p of ${topic} joins partition p of ${tableTopic}, so both need the same partition count and the same keys' partitioner. ` +
            `Write one of them again with the other's partition count (a processor whose sink is repartition({ partitions: ${tablePartitions}, ... }) or toTopic into a topic of ${tablePartitions} partitions), ` +
            `or read ${tableTopic} as a globalTable() (every partition on every node)`,
      { permanent: true },
    );
  }
}
