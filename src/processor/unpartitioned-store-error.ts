import type { KeyMismatch } from '../actors/key-mismatch.js';
import { TributaryError } from '../errors.js';

/** Why queries of a store are refused: its declaration, its evidence, or both. */
export interface UnpartitionedStore {
  readonly store: string;
  /** The store's operator was given `partitioning: 'per-partition'`: each partition keeps its own state for a key. */
  readonly perPartition: boolean;
  /** A key found in a partition it does not map to (murmur2), if one was. */
  readonly mismatch?: KeyMismatch;
}

/**
 * A query asked a store whose keys do not follow the partitioning of the processor's input: the
 * partition a key is routed to (murmur2 of the key over the source topic's partitions) holds at
 * most part of its state, so no answer from it would be right. Either the store's operator was
 * given `partitioning: 'per-partition'` (refused always, on every node: the declaration is
 * known wherever the partition runs), or a key was found in a partition it does not map to
 * (`unpartitioned.mismatch`: the evidence). The latter, for a store keyed like its input, means
 * the source's producer does not partition by murmur2 (librdkafka's default is CRC32): the
 * pipeline is right, only routing queries by key is not. `app.scan` still answers (each row
 * names its partition).
 *
 * @example
 * try { await app.query('totals', 'by-customer', 'c-7'); }
 * catch (err) { if (err instanceof UnpartitionedStoreError) console.error(err.unpartitioned.perPartition, err.mismatch?.key); }
 */
export class UnpartitionedStoreError extends TributaryError {
  constructor(
    readonly processor: string,
    readonly unpartitioned: UnpartitionedStore,
  ) {
    const { store, perPartition, mismatch } = unpartitioned;
    const evidence = mismatch
      ? `key ${JSON.stringify(mismatch.key)} sits in partition ${mismatch.partition} of ${mismatch.topic} but maps to partition ${mismatch.mapsTo}, so the partition a query is routed to holds only part of a key's state`
      : undefined;
    super(
      perPartition
        ? `store '${store}' of processor '${processor}' is declared partitioning: 'per-partition': each partition keeps its own state for a key, so no one partition's answer is the key's` +
            (evidence ? ` (${evidence})` : '') +
            `. Use app.scan('${processor}', '${store}') to see every partition's entries, or repartition by the key before the operator (repartition({ key })) and drop the option`
        : `store '${store}' of processor '${processor}' is not partitioned by its key: ${evidence ?? 'keys were found in partitions they do not map to'}. ` +
            `Repartition by that key before the operator (repartition({ key })); if its keys are the input's own, the source's producer partitions them unlike murmur2 ` +
            `(librdkafka's default is CRC32 consistent_random: use its murmur2_random partitioner, or repartition). Or use app.scan('${processor}', '${store}') to see every partition's entries`,
    );
  }

  /** The evidence, if a key was found in a partition it does not map to. */
  get mismatch(): KeyMismatch | undefined {
    return this.unpartitioned.mismatch;
  }
}
