import { map, mergeMap, pipe, type OperatorFunction } from 'rxjs';
import { aggregating, counting, hopping, tumbling, type PipelineContext, type StreamRecord } from 'tributary';
import type { Bid } from './events.js';
import { lateInput } from './late-lines.js';
import { HOP_MS, WINDOW_MS } from './nexmark-time.js';

/** A `q5` row: an auction with the most bids in a hopping window (one row per auction tied at the maximum). */
export interface Q5Row {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly auction: number;
  readonly bids: number;
}

/** One auction's bids in one hopping window, on its way to the window's ranking. */
export type AuctionCount = Q5Row;

/**
 * q5, step 1, on the bids' input partitions (keyed by auction, so each auction's count is
 * complete in one partition): bids per auction per hopping window of 10,000 ms every 2,000 ms.
 * A bid whose earliest window has fired (its end at or behind the partition's watermark) is
 * late for q5: it goes to the late output and into no window.
 *
 * @example
 * 'q5-by-window': bids.pipe(q5Counts(ctx)),
 */
export function q5Counts(ctx: PipelineContext): OperatorFunction<StreamRecord<unknown, Bid>, AuctionCount> {
  return pipe(
    hopping<StreamRecord<unknown, Bid>, number, number>({
      size: WINDOW_MS,
      advance: HOP_MS,
      key: (r) => r.value.auction,
      aggregate: counting(),
      store: 'q5-counts',
      late: (r, info) => ctx.late(lateInput(r, 'q5'), info),
    }),
    map((w) => ({ windowStart: w.windowStart, windowEnd: w.windowEnd, auction: w.key, bids: w.value })),
  );
}

interface Hottest {
  bids: number;
  auctions: number[];
}

/**
 * q5, step 2, behind the repartition of the counts by window: each hopping window's counts
 * from every bids partition meet in one partition, and a tumbling window of 2,000 ms (one per
 * hopping window, which ends on a multiple of 2,000: a count's event time is its window's last
 * millisecond) keeps the auctions tied at the maximum. It fires once every upstream partition's
 * watermark has passed the window's end, so every count is in.
 *
 * @example
 * pipeline: (counts) => counts.pipe(q5HotItems()),
 */
export function q5HotItems(): OperatorFunction<StreamRecord<string, AuctionCount>, Q5Row> {
  return pipe(
    tumbling<StreamRecord<string, AuctionCount>, Hottest, number>({
      size: HOP_MS,
      key: (r) => r.value.windowStart,
      aggregate: aggregating<StreamRecord<string, AuctionCount>, Hottest>({
        init: () => ({ bids: 0, auctions: [] }),
        add: (acc, { value }) => {
          if (value.bids > acc.bids) return { bids: value.bids, auctions: [value.auction] };
          if (value.bids === acc.bids) acc.auctions.push(value.auction);
          return acc;
        },
      }),
      store: 'q5-hottest',
    }),
    mergeMap((w) => w.value.auctions.map((auction): Q5Row => ({ windowStart: w.key, windowEnd: w.key + WINDOW_MS, auction, bids: w.value.bids }))),
  );
}
