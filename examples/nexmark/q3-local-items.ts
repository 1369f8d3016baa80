import type { OperatorFunction } from 'rxjs';
import { keyedProcess, type StreamRecord } from 'tributary';
import type { Auction, LinedEvent, Person } from './events.js';

/** A `q3` row: an auction in category 10 of a seller in Oregon, Idaho or California. */
export interface Q3Row {
  readonly name: string;
  readonly city: string;
  readonly state: string;
  readonly auctionId: number;
}

/** q3's category and states. */
export const Q3_CATEGORY = 10;
export const Q3_STATES: ReadonlySet<string> = new Set(['OR', 'ID', 'CA']);

/** What q3 keeps per person id. */
interface SellerState {
  /** The person once seen: their row fields when in one of the states, `null` when elsewhere. */
  person?: { readonly name: string; readonly city: string; readonly state: string } | null;
  /** Category-10 auctions of this seller that came before the person. */
  pending?: number[];
}

/**
 * q3 (local item suggestion), a regular join of persons and auctions on `person.id =
 * auction.seller`, on the stage where both are keyed by person (the repartition `by-person`):
 * every auction in category 10 whose seller is a person in `OR`, `ID` or `CA`, whichever of
 * the two arrived first. The person (or that they live elsewhere) and the auctions waiting for
 * them live in the keyed store `q3`, kept for as long as the join runs: a regular join has no
 * window, so nothing ever expires and nothing is late.
 *
 * Written with `keyedProcess` so that it can later become a join operator, unchanged outside.
 *
 * @example
 * 'q3': byPerson.pipe(q3LocalItems()),
 */
export function q3LocalItems(): OperatorFunction<StreamRecord<string, LinedEvent<Person | Auction>>, Q3Row> {
  return keyedProcess<StreamRecord<string, LinedEvent<Person | Auction>>, number, SellerState, Q3Row>({
    store: 'q3',
    key: (r) => (r.value.event.type === 'person' ? r.value.event.id : r.value.event.seller),
    init: () => ({}),
    onRecord: (ctx, r) => {
      const event = r.value.event;
      if (event.type === 'person') {
        const { name, city, state } = event;
        const local = Q3_STATES.has(state) ? { name, city, state } : null;
        const pending = ctx.state.pending ?? [];
        ctx.state = { person: local };
        if (local) for (const auctionId of pending) ctx.emit({ ...local, auctionId });
        return;
      }
      if (event.category !== Q3_CATEGORY) return;
      const seller = ctx.state;
      if (seller.person === undefined) (seller.pending ??= []).push(event.id);
      else if (seller.person !== null) ctx.emit({ ...seller.person, auctionId: event.id });
    },
  });
}
