import type { ClusterQueryAnswer, QueryOptions } from '../cluster/queries.js';
import { TributaryError } from '../errors.js';
import type { ProcessorRuntime } from '../processor/processor-runtime.js';
import { mergeScans, resolveScan, type ScanOptions, type StateScanAnswer } from '../processor/store-scan.js';

/**
 * The answer of `app.query(processor, store, key)`.
 *
 * @example
 * const { found, value, node } = await app.query('totals', 'totals', 'customer-7');
 */
export interface StateQueryAnswer {
  /** Whether the key was found in the store (or `ctx.queryable` state) of its partition. */
  readonly found: boolean;
  /** Its value (a window store: the key's open windows, `[{ windowStart, value }]`). */
  readonly value: unknown;
  /** The partition was still replaying from its committed offset: the value may lag behind. */
  readonly stale: boolean;
  /** The partition of the processor's source topic the key maps to. */
  readonly partition: number | undefined;
  /** The node that answered (with a cluster); undefined when this node answered without one. */
  readonly node: string | undefined;
}

/**
 * Asks `processor`'s store `store` for `key`: this node answers when it owns the key's
 * partition; otherwise, with a cluster, the query is routed to the owner over NATS; without one
 * it fails, naming the partition (no silent "not found" for a key that lives elsewhere).
 */
export async function queryState(
  runtime: ProcessorRuntime,
  cluster: { query(processor: string, name: string, key: string, options?: QueryOptions): Promise<ClusterQueryAnswer> } | undefined,
  store: string,
  key: string,
  options?: QueryOptions,
): Promise<StateQueryAnswer> {
  const processor = runtime.processor.id;
  if (cluster) {
    const answer = await cluster.query(processor, store, key, options);
    return { found: answer.found, value: answer.value ?? undefined, stale: answer.stale, partition: answer.partition, node: answer.node };
  }
  const local = runtime.query(store, key);
  if (!local.owned) {
    throw new TributaryError(
      `query ${processor}/${store}/${key}: its partition ${String(local.partition)} of ${local.topic} is not assigned to this node, and without a cluster there is no one to ask`,
    );
  }
  return { found: local.found, value: local.value, stale: local.stale, partition: local.partition, node: undefined };
}

/**
 * Scans `processor`'s store `store` (a range `[from, to]` or all of it) over every partition:
 * with a cluster, every node running the processor answers for its partitions; without one,
 * this node must run them all, or the scan fails naming the partitions it does not have.
 */
export async function scanState(
  runtime: ProcessorRuntime,
  cluster: { scan(processor: string, store: string, options?: ScanOptions & QueryOptions): Promise<StateScanAnswer> } | undefined,
  store: string,
  options: ScanOptions & QueryOptions = {},
): Promise<StateScanAnswer> {
  const processor = runtime.processor.id;
  if (cluster) return cluster.scan(processor, store, options);
  const scan = resolveScan(options);
  const { answer, missing } = mergeScans([{ node: undefined, scans: runtime.scan(store, scan) }], scan);
  if (missing.length > 0) {
    throw new TributaryError(`scan ${processor}/${store}: partitions ${missing.join(', ')} are not assigned to this node, and without a cluster there is no one to ask`);
  }
  return answer;
}
