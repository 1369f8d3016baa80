import { filter, map, pipe, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from 'tributary';
import { IdentifiedResult } from '../shared/identified-result.js';
import type { Bid } from './events.js';
import { lineOf } from './late-lines.js';

/** A `q2` row. */
export interface Q2Row {
  readonly auction: number;
  readonly price: number;
}

/** q2's auctions: the multiples of 123. */
export const Q2_AUCTION_MULTIPLE = 123;

/**
 * q2 (selection): the bids whose auction is a multiple of 123, `{auction, price}`. Two bids on
 * one auction at one price give the same row: each is identified by its bid's input line.
 *
 * @example
 * 'q2': bids.pipe(q2Selection()),
 */
export function q2Selection(): OperatorFunction<StreamRecord<unknown, Bid>, IdentifiedResult<Q2Row>> {
  return pipe(
    filter((r) => r.value.auction % Q2_AUCTION_MULTIPLE === 0),
    map((r) => new IdentifiedResult(`bid:${lineOf(r)}`, { auction: r.value.auction, price: r.value.price })),
  );
}
