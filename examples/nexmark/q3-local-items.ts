import { filter, map, type Observable, type OperatorFunction } from 'rxjs';
import { regularJoin, type StreamRecord } from 'tributary';
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

type ByPerson = StreamRecord<string, LinedEvent<Person | Auction>>;
type Of<E extends Person | Auction> = StreamRecord<string, LinedEvent<E>>;

const isPerson = (r: ByPerson): r is Of<Person> => r.value.event.type === 'person';
const isAuction = (r: ByPerson): r is Of<Auction> => r.value.event.type === 'auction';

/**
 * q3 (local item suggestion), a regular join of persons and auctions on `person.id =
 * auction.seller`, on the stage where both are keyed by person (the repartition `by-person`):
 * every auction in category 10 whose seller is a person in `OR`, `ID` or `CA`, whichever of
 * the two arrived first. It is tributary's {@link regularJoin}, as Flink SQL's unwindowed
 * `JOIN`: the local persons and the category-10 auctions live in the stores `q3.right` and
 * `q3.left` for as long as the join runs (logged, restored after a restart); a regular join has
 * no window, so nothing expires and nothing is late. Person ids are unique (the source stage
 * dead-letters a repeated one), so an auction joins one person at most.
 *
 * @example
 * 'q3': byPerson.pipe(q3LocalItems()),
 */
export function q3LocalItems(): OperatorFunction<ByPerson, Q3Row> {
  return (records: Observable<ByPerson>) => {
    const localPersons = records.pipe(filter(isPerson), filter((p) => Q3_STATES.has(p.value.event.state)));
    return records.pipe(
      filter(isAuction),
      filter((a) => a.value.event.category === Q3_CATEGORY),
      regularJoin(localPersons, {
        store: 'q3',
        key: (a) => a.value.event.seller,
        otherKey: (p) => p.value.event.id,
        timestamp: (a) => a.value.event.dateTime,
        otherTimestamp: (p) => p.value.event.dateTime,
        join: (a, p): Q3Row => ({ name: p.value.event.name, city: p.value.event.city, state: p.value.event.state, auctionId: a.value.event.id }),
      }),
      map((joined) => joined.value),
    );
  };
}
