import { createRequire } from 'node:module';

const kafkajsRequire = createRequire(import.meta.url);

export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}
/** A record as kafkajs decodes it (the fields read here). */
export interface DecodedMessage {
  readonly offset: string;
  isControlRecord?: boolean;
  readonly batchContext?: { readonly producerId?: string; readonly inTransaction?: boolean };
}
export interface DecodedPartition {
  abortedTransactions?: AbortedTransaction[];
  readonly messages?: DecodedMessage[];
}
interface FetchResponseModule {
  decode(rawData: Buffer): Promise<{ responses?: Array<{ partitions?: DecodedPartition[] }> }>;
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
          dropAbortedRecords(partition);
        }
      }
      return decoded;
    };
    module[PATCHED] = true;
  }
}

/**
 * What the decode of a Fetch response does to each partition: its aborted-transactions list
 * sorted by first offset, the records of those transactions marked (\`markAborted\`), and the
 * list then emptied, so that kafkajs' own filter keeps everything else.
 */
export function dropAbortedRecords(partition: DecodedPartition): void {
  const aborted = partition.abortedTransactions;
  if (!aborted || aborted.length === 0) return;
  if (aborted.length > 1) aborted.sort((a, b) => compareOffsets(a.firstOffset, b.firstOffset));
  markAborted(partition.messages ?? [], aborted);
  partition.abortedTransactions = [];
}

/**
 * Marks the records of aborted transactions as control records, as the Java consumer would drop
 * them: every aborted transaction whose first offset is at or before a record is open from there
 * for its producer (all of them, not one per record) until that producer's next control record.
 * kafkajs' \`filterAbortedMessages\` opens at most one aborted transaction per record, and its
 * batch drops the records below the fetch offset before filtering: when a fetch starts inside
 * several aborted transactions (a killed node's open transactions, one per input partition, all
 * writing to this partition), the later ones open late, their first records come through, and a
 * late one stays open past its abort marker, dropping the next committed records of the same
 * producer id (the next owner's: same transactional id, same producer id). A record marked a
 * control record stays in kafkajs' raw messages (offsets and positions move past it) and is
 * never delivered.
 */
export function markAborted(messages: DecodedMessage[], aborted: readonly AbortedTransaction[]): void {
  const open = new Set<string>();
  let next = 0;
  for (const message of messages) {
    while (next < aborted.length && compareOffsets(aborted[next].firstOffset, message.offset) <= 0) open.add(String(aborted[next++].producerId));
    const producerId = String(message.batchContext?.producerId);
    if (message.isControlRecord) {
      // An abort (or commit) marker ends the producer's transaction.
      open.delete(producerId);
      continue;
    }
    if (message.batchContext?.inTransaction && open.has(producerId)) message.isControlRecord = true;
  }
}

/** Compares two non-negative int64 offsets given as decimal strings. */
function compareOffsets(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
