import { deserialize, serialize } from 'node:v8';
import type { OperatorFunction } from 'rxjs';
import { TributaryError } from '../errors.js';
import {
  resolveEventTime,
  resolveHolds,
  resolveKey,
  type EventTimeOptions,
  type HoldOptions,
  type KeyOf,
  type KeyOptions,
} from './event-time-options.js';
import type { Serde } from '../serdes/serde.js';
import { MinHeap } from './min-heap.js';
import { requiredFunction, optionalFunction, requiredObject } from './validate.js';
import { watermarkOperator } from './watermark-operator.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning, type PartitioningOptions } from './operator-stores.js';

/**
 * What a {@link keyedProcess} callback can do for the current key. Valid only during the
 * callback it was passed to: calling it later throws.
 *
 * @example
 * const onRecord = (ctx: KeyedProcessContext<number, string, string>, r: StreamRecord<string, Tx>) => {
 *   ctx.state += 1;                         // per-key count
 *   ctx.registerTimer(r.timestamp + 60_000); // once the watermark passes ts + 1 min
 *   if (ctx.state >= 5) ctx.emit(`velocity ${ctx.key}`);
 * };
 */
export interface KeyedProcessContext<S, R, K> {
  /** The key being processed. */
  readonly key: K;
  /** The element's event time in `onRecord`; the timer's time in `onTimer`. */
  readonly timestamp: number;
  /**
   * The operator's watermark. In `onRecord`, `timestamp < watermark` means the element is
   * behind it: timers at its timestamp have already fired.
   */
  readonly watermark: number;
  /**
   * What a record counts as late against: {@link watermark}, or behind a repartition the higher
   * watermark of the upstream partition that wrote the record being processed (so that what is
   * late never depends on how upstream partitions' records interleave).
   */
  readonly lateWatermark: number;
  /** The key's state; reading it the first time (or after {@link clearState}) stores `init(key)`. */
  state: S;
  /** Forgets the key's state. A key with no state and no timers is freed. */
  clearState(): void;
  /**
   * Registers an event-time timer: `onTimer` is called once the watermark passes `time`
   * (reaches `time + 1` or more; every record with timestamp `<= time` has arrived). One
   * timer per key and time: registering it again changes nothing. A timer already passed
   * fires right after the current callback.
   */
  registerTimer(time: number): void;
  /** Deletes the key's timer at `time`, if any. */
  deleteTimer(time: number): void;
  /** Emits an output downstream. */
  emit(output: R): void;
  /**
   * Holds `offset` (default: the current element's) back from being committed until the
   * returned release is called. Not needed for the key's state and timers, which live in a
   * store and are restored; only for state you keep outside them.
   */
  hold(offset?: number): () => void;
}

/**
 * Settings of {@link keyedProcess}.
 *
 * @example
 * const counter: KeyedProcessOptions<StreamRecord<string, Tx>, number, number, string> = {
 *   init: () => 0,
 *   onRecord: (ctx) => { ctx.state += 1; ctx.emit(ctx.state); },
 * };
 */
export interface KeyedProcessOptions<T, S, R, K> extends EventTimeOptions<T>, KeyOptions<T, K>, HoldOptions<T>, PartitioningOptions {
  /** The initial state of a key, created when first read. */
  readonly init: (key: K) => S;
  /** Called for every element, in arrival order, whether or not it is behind the watermark. */
  readonly onRecord: (context: KeyedProcessContext<S, R, K>, element: T) => void;
  /** Called for each due timer, in (time, registration) order. */
  readonly onTimer?: (context: KeyedProcessContext<S, R, K>, time: number) => void;
  /**
   * The store of the keys' state and timers (changelog `<processor>-<store>-changelog`).
   * Default `<operator>-<n>` in declaration order.
   */
  readonly store?: string;
  /**
   * Serde of a key's state in the changelog, for state V8's structured clone cannot carry
   * (class instances, functions, running actors). Default: the structured clone.
   */
  readonly stateSerde?: Serde<S>;
}

/** What {@link keyedProcess} keeps per key in its store: the state (when set) and the timers. */
interface KeyState<S> {
  hasState: boolean;
  state: S | undefined;
  /** Timer time → its registration number (which orders timers of the same time). */
  readonly timers: Map<number, number>;
}

interface KeyEntry<K, S> extends KeyState<S> {
  readonly key: K;
}

interface Timer<K, S> {
  readonly time: number;
  readonly seq: number;
  readonly entry: KeyEntry<K, S>;
}

/**
 * A keyed process function with per-key state and event-time timers, like Flink's
 * `KeyedProcessFunction`: the building block for logic windows do not cover (the fraud rules,
 * {@link orderedByEventTime}).
 *
 * `onRecord(ctx, element)` runs for each element with its key's context; `onTimer(ctx, time)`
 * runs when the watermark passes a registered timer. Timers fire in (time, registration)
 * order across all keys. Each key's state and timers live in a store (inside a processor:
 * logged to its changelog and restored after a crash, so the commit never waits for them); a
 * key whose state is cleared and that has no timers is removed. A throw from a callback fails
 * the stream.
 *
 * @example
 * // alert when a card has no transaction for an hour after a large one
 * transactions.pipe(
 *   keyedProcess<StreamRecord<string, Tx>, number | undefined, string, string>({
 *     init: () => undefined,
 *     onRecord: (ctx, r) => {
 *       if (ctx.state !== undefined) ctx.deleteTimer(ctx.state);
 *       if (r.value.amount < 100_000) return ctx.clearState();
 *       ctx.state = r.timestamp + 3_600_000;
 *       ctx.registerTimer(ctx.state);
 *     },
 *     onTimer: (ctx) => { ctx.emit(`quiet after large: ${ctx.key}`); ctx.clearState(); },
 *     clock,
 *   }),
 * );
 */
export function keyedProcess<T, S = unknown, R = unknown, K = KeyOf<T>>(
  options: KeyedProcessOptions<T, S, R, K>,
): OperatorFunction<T, R> {
  return keyedProcessAs('keyedProcess', options);
}

/** {@link keyedProcess} under another operator's name (in config errors), for operators built on it. Internal. */
export function keyedProcessAs<T, S, R, K>(operator: string, options: KeyedProcessOptions<T, S, R, K>): OperatorFunction<T, R> {
  requiredObject(operator, options);
  const init = requiredFunction(operator, 'init', options.init);
  const onRecord = requiredFunction(operator, 'onRecord', options.onRecord);
  const onTimer = optionalFunction(operator, 'onTimer', options.onTimer);
  const eventTime = resolveEventTime(operator, options);
  const keyOf = resolveKey(operator, options);
  const { holds, offset: offsetOf } = resolveHolds(operator, options);
  // Queries see the key's state (undefined when it has none).
  const partitioning = storePartitioning(operator, options.partitioning);
  const keyStore = declareKeyValueStore<K, KeyEntry<K, S>>(operatorStoreName(operator, options.store), {
    value: options.stateSerde ? keyEntrySerde<K, S>(options.stateSerde) : undefined,
    view: (e) => (e.hasState ? e.state : undefined),
    keepsReferences: true, // timers point at entries
    operator,
    partitioning,
  });

  return watermarkOperator<T, R>(eventTime, ({ emit, watermark, lateWatermark, closed }) => {
    const keys = keyStore();
    const timers = new MinHeap<Timer<K, S>>((a, b) => a.time - b.time || a.seq - b.seq);
    let seq = 0;
    let liveTimers = 0;
    // Restored entries: their timers go back on the heap, in their original registration order.
    keys.onRestored(() => {
      for (const [, e] of keys.all()) {
        for (const [time, s] of e.timers) {
          timers.push({ time, seq: s, entry: e });
          liveTimers++;
          if (s >= seq) seq = s + 1;
        }
      }
    });

    // One context object, re-pointed for each callback: no allocation per record.
    let entry: KeyEntry<K, S> | undefined;
    let timestamp = 0;
    let offset: number | undefined;
    const current = (): KeyEntry<K, S> => {
      if (entry === undefined) throw new TributaryError(`${operator}: the context was used outside its callback`);
      return entry;
    };
    const context: KeyedProcessContext<S, R, K> = {
      get key() {
        return current().key;
      },
      get timestamp() {
        current();
        return timestamp;
      },
      get watermark() {
        current();
        return watermark();
      },
      get lateWatermark() {
        current();
        return lateWatermark();
      },
      get state() {
        const e = current();
        if (!e.hasState) {
          e.state = init(e.key);
          e.hasState = true;
        }
        return e.state as S;
      },
      set state(value: S) {
        const e = current();
        e.state = value;
        e.hasState = true;
      },
      clearState() {
        const e = current();
        e.state = undefined;
        e.hasState = false;
      },
      registerTimer(time) {
        const e = current();
        if (typeof time !== 'number' || !Number.isFinite(time)) throw new RangeError(`${operator}: timer time must be a finite number, got ${String(time)}`);
        if (e.timers.has(time)) return;
        const s = seq++;
        e.timers.set(time, s);
        liveTimers++;
        timers.push({ time, seq: s, entry: e });
      },
      deleteTimer(time) {
        if (current().timers.delete(time)) {
          liveTimers--;
          // Deleted timers stay in the heap until they come up; compact when they dominate.
          if (timers.size > 64 && timers.size > 4 * liveTimers) timers.retain((t) => t.entry.timers.get(t.time) === t.seq);
        }
      },
      emit(output) {
        current();
        emit(output);
      },
      hold(at) {
        current();
        const held = at ?? offset;
        if (held === undefined) throw new TributaryError(`${operator}: no offset to hold (the element has none; pass one)`);
        return holds.hold(held);
      },
    };

    const enter = (e: KeyEntry<K, S>, time: number, at: number | undefined): void => {
      entry = e;
      timestamp = time;
      offset = at;
    };
    const leave = (e: KeyEntry<K, S>): void => {
      entry = undefined;
      offset = undefined;
      if (keys.get(e.key) !== e) return;
      if (!e.hasState && e.timers.size === 0) keys.delete(e.key);
      else keys.touch(e.key); // changed in place: logged at the next checkpoint
    };

    const fireDue = (wm: number): void => {
      while (!closed()) {
        const next = timers.peek();
        if (next === undefined || !(next.time < wm)) return;
        timers.pop();
        const e = next.entry;
        if (e.timers.get(next.time) !== next.seq) continue; // deleted, or re-registered later
        e.timers.delete(next.time);
        liveTimers--;
        enter(e, next.time, undefined);
        try {
          onTimer?.(context, next.time);
        } finally {
          leave(e);
        }
      }
    };

    return {
      next(element, ts) {
        const key = keyOf(element);
        let e = keys.get(key);
        if (e === undefined) {
          e = { key, hasState: false, state: undefined, timers: new Map() };
          keys.put(key, e);
        }
        enter(e, ts, offsetOf(element));
        try {
          onRecord(context, element);
        } finally {
          leave(e);
        }
        fireDue(watermark()); // timers registered behind the watermark
      },
      advance: fireDue,
      teardown() {
        // The store is the partition's (restored by the next pipeline), not this subscription's.
        timers.clear();
        liveTimers = 0;
      },
    };
  });
}

/** A key's entry in the changelog: key, state (through the user's serde) and timers, as one structured clone. */
function keyEntrySerde<K, S>(stateSerde: Serde<S>): Serde<KeyEntry<K, S>> {
  return {
    name: `keyed-process(${stateSerde.name})`,
    serialize: (e) =>
      serialize({ key: e.key, hasState: e.hasState, state: e.hasState ? stateSerde.serialize(e.state as S) : undefined, timers: e.timers }),
    deserialize: (bytes) => {
      if (bytes === null) throw new Error('keyed-process entry: no bytes');
      const raw = deserialize(bytes) as { key: K; hasState: boolean; state: Buffer | string | null | undefined; timers: Map<number, number> };
      const state = raw.hasState ? stateSerde.deserialize(raw.state === undefined || raw.state === null ? null : Buffer.from(raw.state as Uint8Array)) : undefined;
      return { key: raw.key, hasState: raw.hasState, state, timers: raw.timers };
    },
  };
}
