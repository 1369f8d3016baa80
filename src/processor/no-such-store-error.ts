import { TributaryError } from '../errors.js';

/** Where a query found no store of the name it asked: the partition, and the stores it has. */
export interface MissingStore {
  readonly store: string;
  readonly topic: string;
  readonly partition: number;
  /** The stores (and `ctx.queryable` states) that partition's pipeline has. */
  readonly known: readonly string[];
}

/**
 * A query named a store that the pipeline of the key's partition does not have (a typo, or a
 * store that only another topic's pipelines declare): an error naming the stores it has, never
 * a confident "not found". Over HTTP, 404.
 *
 * @example
 * try { await app.query('counts', 'cuont-by-key', 'x'); }
 * catch (err) { if (err instanceof NoSuchStoreError) console.error(err.missing.known); }
 */
export class NoSuchStoreError extends TributaryError {
  constructor(
    readonly processor: string,
    readonly missing: MissingStore,
  ) {
    const { store, topic, partition, known } = missing;
    super(`processor '${processor}': partition ${topic}-${partition} has no store '${store}'${known.length > 0 ? ` (its stores: ${known.join(', ')})` : ' (it has no stores)'}`);
  }
}
