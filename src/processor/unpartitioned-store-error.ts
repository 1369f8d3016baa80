import type { KeyMismatch } from '../actors/store-key-partitioning.js';
import { TributaryError } from '../errors.js';

/**
 * A query asked a store whose keys do not follow the partitioning of the processor's input: the
 * partition a key is routed to (murmur2 of the key over the source topic's partitions) holds at
 * most part of its state, so no answer from it would be right. Carries the evidence: a key found
 * in a partition it does not map to. `app.scan` still answers (each row names its partition).
 *
 * @example
 * try { await app.query('totals', 'by-customer', 'c-7'); }
 * catch (err) { if (err instanceof UnpartitionedStoreError) console.error(err.mismatch.key, err.mismatch.partition, err.mismatch.mapsTo); }
 */
export class UnpartitionedStoreError extends TributaryError {
  constructor(
    readonly processor: string,
    readonly mismatch: KeyMismatch,
  ) {
    const { store, key, topic, partition, mapsTo } = mismatch;
    super(
      `store '${store}' of processor '${processor}' is not partitioned by its key: key ${JSON.stringify(key)} sits in partition ${partition} of ${topic} but maps to partition ${mapsTo}, ` +
        `so the partition a query is routed to holds only part of a key's state. Repartition by that key before the operator (repartition({ key })), ` +
        `or use app.scan('${processor}', '${store}') to see every partition's entries`,
    );
  }
}
