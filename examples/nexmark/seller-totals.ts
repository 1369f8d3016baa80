import { map, pipe, type OperatorFunction } from 'rxjs';
import { aggregateByKey, aggregating, type StreamRecord } from 'tributary';
import type { WinningBid } from './winning-bids.js';

/** A `seller-totals` row: the table's value for one seller. */
export interface SellerTotal {
  readonly seller: number;
  readonly auctions: number;
  readonly revenue: number;
}

/**
 * seller-totals, a table: per seller, over winning-bids (repartitioned by seller), the auctions
 * sold and the sum of the winning prices. An unwindowed aggregate with `aggregateByKey` (store
 * `seller-totals`, logged and restored): each winning bid updates its seller's row, and every
 * update is emitted, keyed by seller, so the output topic is the table's changelog (its last
 * record per seller is the seller's value).
 *
 * @example
 * pipeline: (wins) => wins.pipe(sellerTotals()),
 */
export function sellerTotals(): OperatorFunction<StreamRecord<string, WinningBid>, SellerTotal> {
  return pipe(
    aggregateByKey<StreamRecord<string, WinningBid>, { auctions: number; revenue: number }, number>({
      store: 'seller-totals',
      key: (r) => r.value.seller,
      aggregate: aggregating({
        init: () => ({ auctions: 0, revenue: 0 }),
        add: (acc, r) => ({ auctions: acc.auctions + 1, revenue: acc.revenue + r.value.price }),
      }),
    }),
    map((u) => ({ seller: u.key, auctions: u.value.auctions, revenue: u.value.revenue })),
  );
}
