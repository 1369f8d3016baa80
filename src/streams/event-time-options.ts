import { ConfigError } from '../errors.js';
import { EventTimeError } from './errors.js';
import { noOffsetHolds, type OffsetHolds } from './offset-holds.js';
import { currentPipelineScope } from './pipeline-scope.js';
import type { LateInfo, LateSink } from './late-output.js';
import { WatermarkClock } from './watermark-clock.js';
import { nonNegativeInteger, optionalFunction } from './validate.js';

/**
 * The key type of an element with a `key` field (a {@link StreamRecord}, a {@link WindowResult});
 * `unknown` otherwise. The default key type of the keyed operators.
 *
 * @example
 * type K = KeyOf<StreamRecord<string, Click>>; // string
 */
export type KeyOf<T> = T extends { readonly key: infer K } ? K : unknown;

/**
 * Where an event-time operator gets event time and watermarks.
 *
 * @example
 * // in a partition pipeline: the runtime's clock
 * tumbling({ size: 60_000, aggregate: counting(), clock: ctx.clock });
 * // in plain RxJS: a private clock with a 5 s bound, event time from the value
 * tumbling({ size: 60_000, aggregate: counting(), outOfOrderness: 5_000, timestamp: (v) => v.ts, key: (v) => v.page });
 */
export interface EventTimeOptions<T> {
  /**
   * The element's event time, epoch ms. Default: its `timestamp` field; without one, inside a
   * processor, the time of the input record it was made from. A non-finite value (or none, in
   * plain RxJS) fails the stream with an {@link EventTimeError}.
   */
  readonly timestamp?: (element: T) => number;
  /**
   * The event-time clock. Default, for an operator created inside a processor's pipeline: the
   * partition's clock. Elsewhere (plain RxJS), or with `outOfOrderness` set, the operator keeps
   * a private clock that observes each element's event time after processing it, with the
   * `outOfOrderness` bound.
   */
  readonly clock?: WatermarkClock;
  /** The bound of the private clock, ms; only without `clock` (the clock has its own). Default 0. */
  readonly outOfOrderness?: number;
}

/**
 * How a keyed operator finds an element's key.
 *
 * @example
 * session({ gap: 1_800_000, aggregate: counting(), key: (r) => r.value.userId });
 */
export interface KeyOptions<T, K> {
  /**
   * The element's key. Default: its `key` field. Keys are compared like `Map` keys
   * (SameValueZero): use strings or numbers, not objects or Buffers.
   */
  readonly key?: (element: T) => K;
}

/**
 * How an operator keeps the commit point from passing records its open state still needs.
 *
 * @example
 * tumbling({ size: 60_000, aggregate: counting(), holds: ctx.holds }); // offsets from r.offset
 */
export interface HoldOptions<T> {
  /** The offset holds. Default: the partition's, inside a processor's pipeline; else {@link noOffsetHolds}. */
  readonly holds?: OffsetHolds;
  /**
   * The input offset to hold for an element. Default: its `offset` field when that is a number
   * (a {@link StreamRecord}'s offset; a {@link WindowResult}'s earliest contributing offset).
   * Elements without one take no hold.
   */
  readonly offset?: (element: T) => number | undefined;
}

/** Event-time settings resolved and checked. Internal. */
export interface ResolvedEventTime<T> {
  readonly operator: string;
  readonly timestamp: (element: T) => number;
  /** A fresh private clock per subscription when the user gave none. */
  readonly clockFor: () => { clock: WatermarkClock; observeOwn: boolean };
  /** On the partition's clock behind a repartition: the current record's own upstream watermark (see {@link PipelineScope.lateBound}). */
  readonly lateBound: () => number | undefined;
}

const fieldTimestamp = (element: unknown): unknown => (element as { timestamp?: unknown } | null | undefined)?.timestamp;
const fieldKey = (element: unknown): unknown => (element as { key?: unknown } | null | undefined)?.key;
const fieldOffset = (element: unknown): number | undefined => {
  const offset = (element as { offset?: unknown } | null | undefined)?.offset;
  return typeof offset === 'number' ? offset : undefined;
};

export function resolveEventTime<T>(operator: string, options: EventTimeOptions<T>): ResolvedEventTime<T> {
  // Created inside a processor's pipeline: the partition's clock, unless the caller set one up.
  const scope = currentPipelineScope();
  const currentRecord = scope?.currentRecord;
  // An element with no `timestamp` field (a value mapped out of its record) has, inside a
  // processor, the time of the input record it was made from (Kafka Streams' record context).
  const field = currentRecord ? (element: unknown): unknown => fieldTimestamp(element) ?? currentRecord()?.timestamp : fieldTimestamp;
  const extract = (optionalFunction(operator, 'timestamp', options.timestamp) ?? field) as (element: T) => unknown;
  const clock = options.clock ?? (options.outOfOrderness === undefined ? scope?.clock : undefined);
  const lateBound = clock !== undefined && clock === scope?.clock && scope.lateBound ? scope.lateBound : noBound;
  if (clock !== undefined && !(clock instanceof WatermarkClock)) {
    throw new ConfigError(`${operator}.clock`, 'must be a WatermarkClock');
  }
  if (clock !== undefined && options.outOfOrderness !== undefined) {
    throw new ConfigError(`${operator}.outOfOrderness`, "is the clock's setting: pass it to the WatermarkClock, not to the operator");
  }
  const outOfOrderness = nonNegativeInteger(operator, 'outOfOrderness', options.outOfOrderness, 0);
  return {
    operator,
    timestamp: (element) => {
      const time = extract(element);
      if (typeof time !== 'number' || !Number.isFinite(time)) throw new EventTimeError(operator, time);
      return time;
    },
    clockFor: () => (clock ? { clock, observeOwn: false } : { clock: new WatermarkClock({ outOfOrderness }), observeOwn: true }),
    lateBound,
  };
}

const noBound = (): undefined => undefined;

export function resolveKey<T, K>(operator: string, options: KeyOptions<T, K>): (element: T) => K {
  return (optionalFunction(operator, 'key', options.key) ?? fieldKey) as (element: T) => K;
}

export function resolveHolds<T>(operator: string, options: HoldOptions<T>): { holds: OffsetHolds; offset: (element: T) => number | undefined } {
  const holds = options.holds ?? currentPipelineScope()?.holds ?? noOffsetHolds;
  if (typeof holds !== 'object' || holds === null || typeof holds.hold !== 'function') {
    throw new ConfigError(`${operator}.holds`, 'must be an OffsetHolds ({ hold(offset) => release })');
  }
  const given = optionalFunction(operator, 'offset', options.offset);
  if (given) return { holds, offset: given };
  // Inside a processor, an element with no `offset` field has the offset of the input record it was made from.
  const currentRecord = currentPipelineScope()?.currentRecord;
  return { holds, offset: currentRecord ? (element) => fieldOffset(element) ?? currentRecord()?.offset : fieldOffset };
}

/**
 * The late output of an operator: the one it was given, else (created inside a processor's
 * pipeline) the partition's, which counts and routes late records; else none, and a late
 * record fails the stream.
 */
export function resolveLate<T>(operator: string, late: LateSink<T> | undefined): LateSink<T> | undefined {
  resolveLateSink(operator, late);
  if (late !== undefined) return late;
  const scope = currentPipelineScope();
  return scope ? (element: T, info: LateInfo) => scope.late(element, info) : undefined;
}

export function resolveLateSink(operator: string, late: unknown): void {
  if (late === undefined || typeof late === 'function') return;
  if (typeof late !== 'object' || late === null || typeof (late as { next?: unknown }).next !== 'function') {
    throw new ConfigError(`${operator}.late`, 'must be a function (element, info) => void or an Observer with next()');
  }
}
