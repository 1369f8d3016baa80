import { isObservable, map, merge, type Observable } from 'rxjs';
import { ConfigError } from '../errors.js';
import { NullJoinKeyError } from './errors.js';
import type { LateInfo, LateSink } from './late-output.js';
import type { PartitioningOptions } from './operator-stores.js';
import { reportLate } from './late-output.js';
import { currentPipelineScope } from './pipeline-scope.js';
import { optionalFunction } from './validate.js';

/**
 * How a join finds each side's join key. The piped stream is the join's left side, the
 * Observable passed to the operator its right (other) side.
 *
 * @example
 * bids.pipe(windowedJoin(auctions, { key: (b) => b.value.auction, otherKey: (a) => a.value.id, timeDifference: 10_000, join }));
 */
export interface JoinKeyOptions<L, R, K> extends PartitioningOptions {
  /**
   * The left (piped) element's join key. Default: its `key` field. Keys compare like `Map` keys
   * (SameValueZero): strings or numbers. `null` and `undefined` are no key (see docs/joins.md).
   */
  readonly key?: (left: L) => K | null | undefined;
  /** The right (other) element's join key. Default: its `key` field. */
  readonly otherKey?: (right: R) => K | null | undefined;
}

/**
 * One result of a stream join: the join key, what the `join` function made of the pair, and
 * the result's event time (a pair's: the later of the two records'; a record joined with
 * nothing: its own). It has `key` and `timestamp` fields, so the next keyed or event-time
 * operator takes it as it is.
 *
 * @example
 * const r: JoinResult<number, { bid: Bid; auction: Auction }> = { key: 7, value: { bid, auction }, timestamp: 1_000 };
 */
export interface JoinResult<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
}

/** One element of either side of a join, tagged with its side (0 left, 1 right). Internal. */
export type Sided<L, R> = { readonly side: 0; readonly element: L } | { readonly side: 1; readonly element: R };

/**
 * Both sides of a join as one stream, in the order their elements arrive: for two sides split
 * from one synchronous source (`partition(records, isBid)`), the source's offset order. Merge
 * subscribes to the left side first, so of one source record delivered to both, the left copy
 * comes first. Internal.
 */
export function bothSides<L, R>(left: Observable<L>, right: Observable<R>): Observable<Sided<L, R>> {
  return merge(
    left.pipe(map((element): Sided<L, R> => ({ side: 0, element }))),
    right.pipe(map((element): Sided<L, R> => ({ side: 1, element }))),
  );
}

/** Checks the other side given to a join operator. Internal. */
export function otherSide<R>(operator: string, other: Observable<R>): Observable<R> {
  if (!isObservable(other)) throw new ConfigError(`${operator}.other`, 'must be an Observable: the join’s other side, in the same pipeline');
  return other;
}

const fieldKey = (element: unknown): unknown => (element as { key?: unknown } | null | undefined)?.key;
const fieldValue = (element: unknown): unknown => (element as { value?: unknown } | null | undefined)?.value;
const fieldTimestamp = (element: unknown): number => {
  const ts = (element as { timestamp?: unknown } | null | undefined)?.timestamp;
  return typeof ts === 'number' ? ts : 0;
};
const fieldOffset = (element: unknown): number | undefined => {
  const offset = (element as { offset?: unknown } | null | undefined)?.offset;
  return typeof offset === 'number' ? offset : undefined;
};

/** A side's key extractor: the option, or the `key` field. Internal. */
export function joinKey<T, K>(operator: string, option: string, extractor: ((element: T) => K | null | undefined) | undefined): (element: T) => K | null | undefined {
  return (optionalFunction(operator, option, extractor) ?? fieldKey) as (element: T) => K | null | undefined;
}

/** A table side's value extractor: the option, or the `value` field. Internal. */
export function tableValue<T, V>(operator: string, option: string, extractor: ((element: T) => V | null | undefined) | undefined): (element: T) => V | null | undefined {
  return (optionalFunction(operator, option, extractor) ?? fieldValue) as (element: T) => V | null | undefined;
}

/**
 * A side's timestamp for joins without windows: the option, or the `timestamp` field; an element
 * without one (a value mapped out of its record) has the time of the input record it was made
 * from, inside a processor (the pipeline scope's `currentRecord`), else 0. Internal.
 */
export function lenientTimestamp<T>(operator: string, option: string, extractor: ((element: T) => number) | undefined): (element: T) => number {
  const given = optionalFunction(operator, option, extractor);
  if (given) return given;
  const currentRecord = currentPipelineScope()?.currentRecord;
  if (!currentRecord) return fieldTimestamp;
  return (element) => {
    const ts = (element as { timestamp?: unknown } | null | undefined)?.timestamp;
    return typeof ts === 'number' ? ts : (currentRecord()?.timestamp ?? 0);
  };
}

/** The reason a record with no join key is left out. */
export const NULL_JOIN_KEY = 'null join key';

/**
 * Leaves out a record whose join key is null or undefined: to the late output with
 * `reason: 'null join key'` (inside a processor: the `late` sink or the dead letters, counted),
 * or, with no late output, a {@link NullJoinKeyError}. Internal.
 */
export function dropNullKey<T>(operator: string, late: LateSink<T> | undefined, element: T, timestamp: number, watermark: number): void {
  const offset = fieldOffset(element);
  if (late === undefined) throw new NullJoinKeyError(operator, offset);
  const info: LateInfo = { operator, timestamp, watermark, offset, reason: NULL_JOIN_KEY };
  reportLate(late, element, info);
}

/** True for a key that is no key. Internal. */
export function noKey(key: unknown): key is null | undefined {
  return key === null || key === undefined;
}

/** The type of a join, checked. Internal. */
export function joinType<T extends string>(operator: string, type: unknown, allowed: readonly T[]): T {
  if (type === undefined) return allowed[0];
  if (!allowed.includes(type as T)) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a wrong value of any type, shown as it is
    throw new ConfigError(`${operator}.type`, `must be ${allowed.map((t) => `'${t}'`).join(', ')}; got ${String(type)}`);
  }
  return type as T;
}

export { fieldOffset as joinOffset };
