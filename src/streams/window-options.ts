import { ConfigError } from '../errors.js';
import type { Aggregator } from './aggregator.js';
import type { EventTimeOptions, HoldOptions, KeyOf, KeyOptions } from './event-time-options.js';
import type { LateOptions } from './late-output.js';
import type { PartitioningOptions } from './operator-stores.js';
import type { EmitMode } from './window-result.js';

/**
 * Options shared by every windowed aggregation ({@link tumbling}, {@link hopping},
 * {@link sliding}, {@link session}).
 *
 * @example
 * const common: WindowOptions<StreamRecord<string, Click>, number, string> = {
 *   key: (r) => r.value.page, aggregate: counting(), grace: 0, store: 'page-views',
 * };
 * clicks.pipe(tumbling({ ...common, size: 60_000 }));
 */
export interface WindowOptions<T, A, K = KeyOf<T>> extends EventTimeOptions<T>, KeyOptions<T, K>, HoldOptions<T>, LateOptions<T>, PartitioningOptions {
  /** How the window's elements become its value: {@link counting}, {@link summing}, {@link topN}, {@link aggregating}... */
  readonly aggregate: Aggregator<T, A>;
  /**
   * How long after its end a window stays open for stragglers, ms: it fires once, with its
   * final result, when the watermark reaches `end + grace` (Kafka Streams' grace period with
   * `suppress(untilWindowCloses)`). Default 0. A downstream window operator should allow at
   * least as much as the one upstream of it.
   */
  readonly grace?: number;
  /**
   * The old name of {@link grace} (it is not Flink's allowed lateness: no on-time firing then
   * late refinements). Setting both is a {@link ConfigError}.
   * @deprecated use `grace`
   */
  readonly allowedLateness?: number;
  /**
   * The name of the window's store (changelog `<processor>-<store>-changelog`), where the
   * operator keeps its open windows. Default `<operator>-<n>` in declaration order: name it so
   * that it survives changes to the topology. (Every window operator: tumbling, hopping, session
   * and sliding.)
   */
  readonly store?: string;
}

/**
 * Options of windows that can emit early updates.
 *
 * @example
 * tumbling({ size: 60_000, aggregate: counting(), emit: 'every-record' }); // live counts, then the final one
 */
export interface EmitOptions {
  /** `'final'` (default) or `'every-record'`; see {@link EmitMode}. */
  readonly emit?: EmitMode;
}

// Construction-time checks shared by the window operators. Internal.

export function checkAggregator(operator: string, aggregate: unknown, needsMerge = false): void {
  const agg = aggregate as Partial<Aggregator<unknown, unknown>> | undefined;
  if (typeof agg !== 'object' || agg === null || typeof agg.init !== 'function' || typeof agg.add !== 'function') {
    throw new ConfigError(`${operator}.aggregate`, 'must be an Aggregator { init, add, merge? }, e.g. counting()');
  }
  if (needsMerge && typeof agg.merge !== 'function') {
    throw new ConfigError(
      `${operator}.aggregate`,
      'must have merge(): sessions merge when a record bridges them (counting(), summing(), topN()... have one)',
    );
  }
}

export function resolveEmit(operator: string, emit: unknown): EmitMode {
  if (emit === undefined) return 'final';
  if (emit !== 'final' && emit !== 'every-record') {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a wrong value of any type, shown as it is
    throw new ConfigError(`${operator}.emit`, `must be 'final' or 'every-record', got ${String(emit)}`);
  }
  return emit;
}

/** The grace period of a window operator's options (`grace`, or its old name `allowedLateness`), validated. Internal. */
export function resolveGrace(operator: string, options: { readonly grace?: number; readonly allowedLateness?: number }): number {
  if (options.grace !== undefined && options.allowedLateness !== undefined) {
    throw new ConfigError(`${operator}.allowedLateness`, 'is the old name of grace: set only grace');
  }
  const name = options.grace !== undefined ? 'grace' : 'allowedLateness';
  const value = options.grace ?? options.allowedLateness ?? 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${operator}.${name}`, `must be a non-negative integer number of milliseconds, got ${String(value)}`);
  }
  return value;
}
