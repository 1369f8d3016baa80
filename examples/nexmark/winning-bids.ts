import type { OperatorFunction } from 'rxjs';
import { keyedProcess, type KeyedProcessContext, type PipelineContext, type StreamRecord } from 'tributary';
import type { Auction, Bid, LinedEvent } from './events.js';
import { lateEvent, lateInfo } from './late-lines.js';

/** A `winning-bids` row. */
export interface WinningBid {
  readonly auction: number;
  readonly seller: number;
  readonly category: number;
  readonly price: number;
  readonly bidder: number;
  readonly bidDateTime: number;
}

/** A bid that came before its auction: kept with the watermark it is judged late against. */
interface PendingBid {
  readonly bid: Bid;
  readonly line: number;
  readonly offset: number;
  readonly watermark: number;
}

/** What winning-bids keeps per auction id (store `winning-bids`). */
interface AuctionState {
  /** The auction once it arrived; after it fired (or if it came late), only what judges later bids. */
  auction?: { readonly dateTime: number; readonly expires: number; readonly reserve: number; readonly seller: number; readonly category: number; fired: boolean };
  /** The best eligible bid so far, while the auction is open. */
  best?: { readonly price: number; readonly bidder: number; readonly dateTime: number };
  /** Bids that came before the auction. */
  pending?: PendingBid[];
}

type Element = StreamRecord<string, LinedEvent<Auction | Bid>>;

/** Higher price first, then the earlier `dateTime`, then the lower `bidder`. */
function beats(bid: Bid, best: AuctionState['best']): boolean {
  if (best === undefined) return true;
  if (bid.price !== best.price) return bid.price > best.price;
  if (bid.dateTime !== best.dateTime) return bid.dateTime < best.dateTime;
  return bid.bidder < best.bidder;
}

/**
 * winning-bids, a join of bids and auctions on `bid.auction = auction.id`, on the stage where
 * both are keyed by auction (the repartition `auction-bids`): for each auction, among its bids
 * with `auction.dateTime ≤ bid.dateTime ≤ expires` and `price ≥ reserve`, the highest price
 * (ties: earliest `dateTime`, then lowest `bidder`), emitted when the auction fires: a timer at
 * `expires`, which fires once the stage's watermark (the minimum over every input partition)
 * passes it, so a bid at exactly `expires` still counts.
 *
 * Lateness, judged against the watermark of the input partition each record was read from (the
 * keyed context's `lateWatermark`, as window operators behind a repartition do):
 * - an auction is late when that watermark has passed its `expires`: it has no result;
 * - a bid belongs to its auction when `auction.dateTime ≤ bid.dateTime ≤ expires`; it is late
 *   when that watermark had passed `expires` when it was read. A bid that comes before its
 *   auction waits in the store with that watermark, and is judged when the auction arrives.
 *
 * After an auction fires, the store keeps its time span (to find its later bids late) and
 * forgets its bids. Bids waiting for an auction that never comes stay (a finite input ends with
 * them; a long-running deployment would give them a TTL).
 *
 * Written with `keyedProcess` so that it can later become a join operator.
 *
 * @example
 * 'winning-bids': auctionBids.pipe(winningBids(ctx)),
 */
export function winningBids(context: PipelineContext): OperatorFunction<Element, WinningBid> {
  const late = (r: Pick<Element, 'topic' | 'partition'>, offset: number, bid: Bid, line: number, watermark: number): void =>
    context.late(lateEvent({ topic: r.topic, partition: r.partition, offset }, { line, event: bid }, 'winning-bids'), lateInfo('winning-bids', bid.dateTime, watermark, offset));

  /** A bid of a known auction: late, a new best, or nothing. */
  const consider = (ctx: KeyedProcessContext<AuctionState, WinningBid, number>, r: Element, pending: PendingBid): void => {
    const state = ctx.state;
    const auction = state.auction!;
    const { bid } = pending;
    if (bid.dateTime < auction.dateTime || bid.dateTime > auction.expires) return; // not this auction's
    if (pending.watermark > auction.expires) late(r, pending.offset, bid, pending.line, pending.watermark);
    else if (!auction.fired && bid.price >= auction.reserve && beats(bid, state.best)) state.best = { price: bid.price, bidder: bid.bidder, dateTime: bid.dateTime };
  };

  return keyedProcess<Element, AuctionState, WinningBid, number>({
    store: 'winning-bids',
    key: (r) => (r.value.event.type === 'auction' ? r.value.event.id : r.value.event.auction),
    init: () => ({}),
    onRecord: (ctx, r) => {
      const { event, line } = r.value;
      const watermark = ctx.lateWatermark;
      const state = ctx.state;
      if (event.type === 'bid') {
        const pending: PendingBid = { bid: event, line, offset: r.offset, watermark };
        if (state.auction === undefined) (state.pending ??= []).push(pending);
        else consider(ctx, r, pending);
        return;
      }
      if (state.auction !== undefined) return; // ids are unique (duplicates were dead-lettered upstream)
      const isLate = watermark > event.expires;
      if (isLate) context.late(lateEvent(r, r.value, 'winning-bids'), lateInfo('winning-bids', event.dateTime, watermark, r.offset));
      const { dateTime, expires, reserve, seller, category } = event;
      state.auction = { dateTime, expires, reserve, seller, category, fired: isLate };
      const waiting = state.pending ?? [];
      state.pending = undefined;
      for (const pending of waiting) consider(ctx, r, pending);
      if (!isLate) ctx.registerTimer(expires);
    },
    onTimer: (ctx, time) => {
      const state = ctx.state;
      const auction = state.auction;
      if (auction === undefined || auction.fired || time !== auction.expires) return;
      auction.fired = true;
      const best = state.best;
      state.best = undefined;
      if (best) ctx.emit({ auction: ctx.key, seller: auction.seller, category: auction.category, price: best.price, bidder: best.bidder, bidDateTime: best.dateTime });
    },
  });
}
