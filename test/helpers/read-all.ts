import type { LogConnector, LogRecord } from '../../src/connectors/log.js';

/** Every record of the topic's partitions 0..partitions-1, read-committed through the log's partition reader (as restores read). */
export async function readAllRecords(log: Pick<LogConnector, 'reader'>, topic: string, partitions: number): Promise<LogRecord[]> {
  const reader = log.reader();
  const records: LogRecord[] = [];
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const end = await reader.endOffset({ topic, partition });
      await reader.read({ topic, partition }, 0, end, (batch) => void records.push(...batch));
    }
  } finally {
    await reader.close();
  }
  return records;
}
