import { createRequire } from 'node:module';

const kafkajsRequire = createRequire(import.meta.url);

interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}
interface FetchResponseModule {
  decode(rawData: Buffer): Promise<{ responses?: Array<{ partitions?: Array<{ abortedTransactions?: AbortedTransaction[] }> }> }>;
}

const PATCHED = Symbol.for('tributary.kafkajs.abortedTransactionsSorted');

/**
 * kafkajs' read-committed consumer drops aborted records with `filterAbortedMessages`, which only
 * ever looks at the head of the fetch response's aborted-transactions list, so it assumes the
 * list sorted by first offset. The broker's list is not (seen: in the order the transactions
 * ended), and an aborted transaction that began first but ended last (a killed owner's, aborted
 * by the next owner's `InitProducerId`) then comes through to the consumer. The Java consumer keeps
 * the list in a priority queue by first offset; this sorts it the same way as kafkajs decodes each
 * Fetch response (v4 to v11), before any batch is built from it. Idempotent.
 *
 * @example
 * sortAbortedTransactions(); // once, before consuming (KafkaConnector's constructor does it)
 */
export function sortAbortedTransactions(): void {
  for (let version = 4; version <= 11; version++) {
    let module: FetchResponseModule & { [PATCHED]?: true };
    try {
      module = kafkajsRequire(`kafkajs/src/protocol/requests/fetch/v${version}/response`) as FetchResponseModule;
    } catch {
      continue;
    }
    if (module[PATCHED]) continue;
    const decode = module.decode.bind(module);
    module.decode = async (rawData: Buffer) => {
      const decoded = await decode(rawData);
      for (const response of decoded.responses ?? []) {
        for (const partition of response.partitions ?? []) {
          const aborted = partition.abortedTransactions;
          if (aborted && aborted.length > 1) aborted.sort((a, b) => compareOffsets(a.firstOffset, b.firstOffset));
        }
      }
      return decoded;
    };
    module[PATCHED] = true;
  }
}

/** Compares two non-negative int64 offsets given as decimal strings. */
function compareOffsets(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
