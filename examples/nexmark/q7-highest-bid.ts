import { map, mergeMap, pipe, type OperatorFunction } from 'rxjs';
import { aggregating, tumbling, type Aggregator, type PipelineContext, type StreamRecord } from 'tributary';
import { IdentifiedResult } from '../shared/identified-result.js';
import type { Bid } from './events.js';
import { lateInput, lineOf } from './late-lines.js';
import { WINDOW_MS } from './nexmark-time.js';

/** A `q7` row: a bid at the highest price of its tumbling window. */
export interface Q7Row {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly dateTime: number;
}

/** A bid at a window's highest price so far, with its input line (its row's identity). */
interface TopBid {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly dateTime: number;
  readonly line: number;
}

/** The highest bids of one window on one bids partition, on their way to the window's combination. */
export interface PartialHighest {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly price: number;
  readonly bids: readonly TopBid[];
}

interface Highest {
  price: number;
  bids: TopBid[];
}

/** Keeps every element at the highest price seen: `add` takes one or several at one price. */
function highest<T>(priceOf: (element: T) => number, bidsOf: (element: T) => readonly TopBid[]): Aggregator<T, Highest> {
  return aggregating<T, Highest>({
    init: () => ({ price: -Infinity, bids: [] }),
    add: (acc, element) => {
      const price = priceOf(element);
      if (price > acc.price) return { price, bids: [...bidsOf(element)] };
      if (price === acc.price) acc.bids.push(...bidsOf(element));
      return acc;
    },
  });
}

/**
 * q7, step 1, on each bids input partition: the partition's highest bids per tumbling window of
 * 10,000 ms (one key per partition). A bid whose window has fired by the partition's watermark
 * is late for q7.
 *
 * @example
 * 'q7-by-window': bids.pipe(q7PartialHighest(ctx)),
 */
export function q7PartialHighest(ctx: PipelineContext): OperatorFunction<StreamRecord<unknown, Bid>, PartialHighest> {
  return pipe(
    tumbling<StreamRecord<unknown, Bid>, Highest, string>({
      size: WINDOW_MS,
      key: () => 'highest',
      aggregate: highest(
        (r) => r.value.price,
        (r) => [{ auction: r.value.auction, bidder: r.value.bidder, price: r.value.price, dateTime: r.value.dateTime, line: lineOf(r) }],
      ),
      store: 'q7-partial',
      // One key per partition on purpose: each partition's highest, merged behind q7-by-window.
      partitioning: 'per-partition',
      late: (r, info) => ctx.late(lateInput(r, 'q7'), info),
    }),
    map((w) => ({ windowStart: w.windowStart, windowEnd: w.windowEnd, price: w.value.price, bids: w.value.bids })),
  );
}

/**
 * q7, step 2, behind the repartition by window: every partition's highest bids of a window meet
 * in one partition, and the window fires once every upstream watermark has passed its end:
 * every bid at the highest price, one row each (identified by its input line: two bids can give
 * the same row).
 *
 * @example
 * pipeline: (partials) => partials.pipe(q7HighestBid()),
 */
export function q7HighestBid(): OperatorFunction<StreamRecord<string, PartialHighest>, IdentifiedResult<Q7Row>> {
  return pipe(
    tumbling<StreamRecord<string, PartialHighest>, Highest, number>({
      size: WINDOW_MS,
      key: (r) => r.value.windowStart,
      aggregate: highest(
        (r) => r.value.price,
        (r) => r.value.bids,
      ),
      store: 'q7-highest',
    }),
    mergeMap((w) =>
      w.value.bids.map(
        (b) => new IdentifiedResult(`bid:${b.line}`, { windowStart: w.windowStart, windowEnd: w.windowEnd, auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime }),
      ),
    ),
  );
}
