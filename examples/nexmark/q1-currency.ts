import { map, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from 'tributary';
import { IdentifiedResult } from '../shared/identified-result.js';
import type { Bid } from './events.js';
import { lineOf } from './late-lines.js';

/** A `q1` row: a bid with its price in euros. */
export interface Q1Row {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly dateTime: number;
}

/**
 * `floor(price × 908 / 1000)` in exact integer arithmetic (BigInt: `price × 908` can pass 2^53),
 * toward minus infinity for negative prices too.
 *
 * @example
 * euros(1_001); // 908
 * euros(-1);    // -1
 */
export function euros(price: number): number {
  const scaled = BigInt(price) * 908n;
  let quotient = scaled / 1000n; // BigInt division truncates toward zero
  if (scaled % 1000n !== 0n && scaled < 0n) quotient -= 1n;
  return Number(quotient);
}

/**
 * q1 (currency conversion): every bid, its price in euros. No window: never drops a bid. Each
 * row is identified by its bid's input line, since two bids can give the same row.
 *
 * @example
 * 'q1': bids.pipe(q1Currency()),
 */
export function q1Currency(): OperatorFunction<StreamRecord<unknown, Bid>, IdentifiedResult<Q1Row>> {
  return map((r) => {
    const { auction, bidder, price, dateTime } = r.value;
    return new IdentifiedResult(`bid:${lineOf(r)}`, { auction, bidder, price: euros(price), dateTime });
  });
}
