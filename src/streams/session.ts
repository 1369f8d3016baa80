import type { OperatorFunction } from 'rxjs';
import { checkAggregator, resolveEmit, type EmitOptions, type WindowOptions } from './window-options.js';
import { resolveGrace } from './window-options.js';
import {
  resolveEventTime,
  resolveHolds,
  resolveKey,
  resolveLate,
  type KeyOf,
} from './event-time-options.js';
import { reportLate } from './late-output.js';
import { MinHeap } from './min-heap.js';
import { positiveInteger, requiredObject } from './validate.js';
import { watermarkOperator } from './watermark-operator.js';
import type { WindowResult } from './window-result.js';
import { declareKeyValueStore, operatorStoreName, storePartitioning } from './operator-stores.js';

/**
 * Settings of {@link session}.
 *
 * @example
 * const halfHour: SessionOptions<StreamRecord, number> = { gap: 1_800_000, aggregate: counting() };
 */
export interface SessionOptions<T, A, K = KeyOf<T>> extends WindowOptions<T, A, K>, EmitOptions {
  /** Inactivity gap in ms, a positive integer: events at most `gap` apart are in one session. */
  readonly gap: number;
}

interface OpenSession<A> {
  start: number;
  last: number;
  acc: A;
  minOffset: number | undefined;
  /** `last + gap + 1 + grace`: the watermark at which it fires. Only grows. */
  fireAt: number;
  /** Its place among sessions due at the same watermark (kept across restores). */
  seq: number;
}

/** What the store keeps per key (the key too: a restored entry schedules itself). */
interface KeySessions<K, A> {
  readonly key: K;
  /** Open sessions, disjoint, by start. */
  readonly open: OpenSession<A>[];
  /** The latest fired session: a record within `gap` of it is late. */
  firedStart: number;
  firedLast: number;
}

type Scheduled<K, A> =
  | { at: number; seq: number; session: OpenSession<A>; keyed: KeySessions<K, A> }
  | { at: number; seq: number; session: undefined; keyed: KeySessions<K, A> };

/**
 * Per-key aggregation over session windows: a key's events, in timestamp order, belong to one
 * session while each is at most `gap` ms after the one before it. A record that falls within
 * `gap` of two sessions merges them (with the aggregator's `merge`, earlier session first).
 *
 * Results span the first and last event timestamps, **both inclusive**
 * (`windowStart` = first, `windowEnd` = last, as Kafka Streams' `SessionWindows`); the result's
 * `timestamp` is `windowEnd + gap`.
 *
 * **Firing.** A session can grow until no on-time record can reach it: it fires when the
 * watermark passes `last + gap`, i.e. reaches `last + gap + 1 + grace`.
 *
 * **Late records.** A record is late when the session it belongs to has fired: when it is
 * within `gap` of a session that already fired, or when it joins no open session and its own
 * one-event session would already have fired (`ts + gap + 1 + grace <= watermark`).
 * It goes to the `late` output and into no session, so results equal a batch
 * sessionization of the records that were not late.
 *
 * **State.** Per key, in a key-value store (inside a processor: logged to its changelog at each
 * commit and restored after a crash, so an open session never keeps the commit back): the open
 * sessions (usually one) and the extent of the latest fired one, which is forgotten (and the key
 * freed) once the watermark reaches `last + 3 × gap + 1 + grace` with no session open:
 * by then any record it could catch is late anyway, whether alone (its own session would have
 * fired) or bridging to a session opened since (none can open within `2 × gap` of it any more).
 * At `2 × gap` a record within `gap` of the fired session could still join a session opened
 * just after it, and be counted instead of late.
 *
 * With `emit: 'every-record'`, each record emits its session as updated; after a merge, the
 * merged session's update supersedes those of the sessions it absorbed.
 *
 * @example
 * // clickstream sessions: 30-minute gap per user
 * clicks.pipe(
 *   session({
 *     gap: 1_800_000,
 *     aggregate: aggregating({
 *       init: () => ({ events: 0, pages: new Set<string>() }),
 *       add: (s, r: StreamRecord<string, Click>) => ({ events: s.events + 1, pages: s.pages.add(r.value.page) }),
 *       merge: (a, b) => ({ events: a.events + b.events, pages: new Set([...a.pages, ...b.pages]) }),
 *     }),
 *     store: 'sessions',
 *   }),
 *   map((s) => ({ userId: s.key, sessionStart: s.windowStart, sessionEnd: s.windowEnd,
 *     events: s.value.events, pages: s.value.pages.size, bounce: s.value.events === 1 })),
 * );
 */
export function session<T, A, K = KeyOf<T>>(options: SessionOptions<T, A, K>): OperatorFunction<T, WindowResult<K, A>> {
  const operator = 'session';
  requiredObject(operator, options);
  const gap = positiveInteger(operator, 'gap', options.gap);
  checkAggregator(operator, options.aggregate, true);
  const { aggregate } = options;
  const late = resolveLate(operator, options.late);
  const merge = aggregate.merge as (earlier: A, later: A) => A;
  const eventTime = resolveEventTime(operator, options);
  const keyOf = resolveKey(operator, options);
  const { offset: offsetOf } = resolveHolds(operator, options);
  const lateness = resolveGrace(operator, options);
  const emitMode = resolveEmit(operator, options.emit);
  // Queries see the key's open sessions: [{ windowStart, windowEnd, value }].
  const partitioning = storePartitioning(operator, options.partitioning);
  const keyStore = declareKeyValueStore<K, KeySessions<K, A>>(operatorStoreName(operator, options.store), {
    view: (keyed) => keyed.open.map((s) => ({ windowStart: s.start, windowEnd: s.last, value: s.acc })),
    keepsReferences: true, // the schedule points at entries
    operator,
    partitioning,
  });

  return watermarkOperator<T, WindowResult<K, A>>(eventTime, ({ emit, lateWatermark, closed }) => {
    const keys = keyStore();
    const schedule = new MinHeap<Scheduled<K, A>>((a, b) => a.at - b.at || a.seq - b.seq);
    let seq = 0;
    // Entries forgotten (deleted from the store): what is still scheduled for them is void.
    const forgotten = new WeakSet<KeySessions<K, A>>();
    // Restored keys: their open sessions and fired extents go back on the schedule.
    keys.onRestored(() => {
      for (const [, keyed] of keys.all()) {
        for (const s of keyed.open) {
          schedule.push({ at: s.fireAt, seq: s.seq, session: s, keyed });
          if (s.seq >= seq) seq = s.seq + 1;
        }
        if (keyed.firedLast > -Infinity) schedule.push({ at: keyed.firedLast + 3 * gap + 1 + lateness, seq: seq++, session: undefined, keyed });
      }
    });

    const result = (key: K, s: OpenSession<A>, final: boolean): WindowResult<K, A> => ({
      key,
      windowStart: s.start,
      windowEnd: s.last,
      value: s.acc,
      timestamp: s.last + gap,
      offset: s.minOffset,
      final,
    });

    const fire = (keyed: KeySessions<K, A>, s: OpenSession<A>): void => {
      keyed.open.splice(keyed.open.indexOf(s), 1);
      keyed.firedStart = s.start;
      keyed.firedLast = s.last;
      keys.touch(keyed.key);
      emit(result(keyed.key, s, true));
      schedule.push({ at: s.last + 3 * gap + 1 + lateness, seq: seq++, session: undefined, keyed });
    };

    /**
     * From `firedLast + 3 gap + 1` (+ lateness) on, a record within `gap` of the fired session is
     * late by the watermark alone: with no session open, the key is forgotten.
     */
    const forgetFired = (keyed: KeySessions<K, A>, wm: number): void => {
      if (keyed.firedLast + 3 * gap + 1 + lateness > wm) return;
      if (keyed.open.length === 0 && !forgotten.has(keyed)) {
        forgotten.add(keyed);
        keys.delete(keyed.key);
      }
    };

    return {
      next(element, ts) {
        const key = keyOf(element);
        const offset = offsetOf(element);
        const wm = lateWatermark();
        let keyed = keys.get(key);
        let firstTouching = -1;
        let touching = 0;
        // A touched session already due by `wm` counts as fired: behind a repartition `wm` is the
        // record's own upstream watermark, and whether this operator has fired that session yet
        // depends on how the upstream partitions interleave, never on the record.
        let due: OpenSession<A> | undefined;
        if (keyed !== undefined) {
          const { open } = keyed;
          for (let i = 0; i < open.length; i++) {
            if (open[i].start - gap <= ts && ts <= open[i].last + gap) {
              if (firstTouching < 0) firstTouching = i;
              touching++;
              if (due === undefined && open[i].fireAt <= wm) due = open[i];
            }
          }
        }
        const bridgesFired = keyed !== undefined && keyed.firedStart - gap <= ts && ts <= keyed.firedLast + gap;
        if (bridgesFired || due !== undefined || (touching === 0 && ts + gap + 1 + lateness <= wm)) {
          const window = bridgesFired ? { start: keyed!.firedStart, end: keyed!.firedLast } : due ? { start: due.start, end: due.last } : { start: ts, end: ts };
          reportLate(late, element, { operator, timestamp: ts, watermark: wm, offset, window });
          return;
        }
        if (keyed === undefined) {
          keyed = { key, open: [], firedStart: Infinity, firedLast: -Infinity };
          keys.put(key, keyed);
        } else {
          keys.touch(key); // changed in place below: logged at the next checkpoint
        }
        const { open } = keyed;
        let s: OpenSession<A>;
        if (touching === 0) {
          s = { start: ts, last: ts, acc: aggregate.init(), minOffset: offset, fireAt: Infinity, seq: seq++ };
          let at = 0;
          while (at < open.length && open[at].start < ts) at++;
          open.splice(at, 0, s);
        } else {
          // Touching sessions are consecutive in `open`: fold the later ones into the first.
          s = open[firstTouching];
          for (const other of open.splice(firstTouching + 1, touching - 1)) {
            s.acc = merge(s.acc, other.acc);
            s.last = Math.max(s.last, other.last);
            s.minOffset = earliest(s.minOffset, other.minOffset);
          }
        }
        s.acc = aggregate.add(s.acc, element);
        if (ts < s.start) s.start = ts;
        if (ts > s.last) s.last = ts;
        s.minOffset = earliest(s.minOffset, offset);
        s.fireAt = s.last + gap + 1 + lateness;
        // A new session is scheduled now; a grown one keeps its entry and is rescheduled when it comes.
        if (touching === 0) schedule.push({ at: s.fireAt, seq: s.seq, session: s, keyed });
        if (emitMode === 'every-record') emit(result(key, s, false));
      },

      advance(wm) {
        while (!closed()) {
          const next = schedule.peek();
          if (next === undefined || next.at > wm) return;
          schedule.pop();
          const { session: s, keyed } = next;
          if (s === undefined) {
            // Forget the key's fired session (its hold), and the key if nothing opened since.
            forgetFired(keyed, wm);
          } else if (keyed.open.includes(s)) {
            // Not merged into another since it was scheduled.
            if (s.fireAt > wm) {
              s.seq = seq++;
              keys.touch(keyed.key);
              schedule.push({ at: s.fireAt, seq: s.seq, session: s, keyed });
            } else fire(keyed, s);
          }
        }
      },

      teardown() {
        // The store is the partition's (restored by the next pipeline), not this subscription's.
        schedule.clear();
      },
    };
  });
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined || b >= a ? a : b;
}
