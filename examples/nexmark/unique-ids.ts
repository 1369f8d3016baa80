import type { OperatorFunction } from 'rxjs';
import { keyedProcess, type StreamRecord } from 'tributary';
import type { RejectedRecord } from '../shared/dead-letter-sink.js';
import type { Auction, Person } from './events.js';

/** What {@link uniqueIds} says of a person or an auction: the first of its id, or a duplicate (a dead letter). */
export type IdCheck<E> = { readonly first: true; readonly record: StreamRecord<unknown, E> } | { readonly first: false; readonly rejected: RejectedRecord };

/**
 * Person and auction ids are unique: the first event of an id stands, any later one is a dead
 * letter with reason `duplicate id`. The ids seen live in a keyed store (one `true` per id,
 * logged and restored), so a restart or a new owner still knows them. Runs on the input
 * partitions: persons and auctions are keyed by `id` there, so all events of an id meet in one
 * partition, in file order.
 *
 * @example
 * persons.pipe(uniqueIds({ store: 'person-ids' }));
 */
export function uniqueIds<E extends Person | Auction>(options: { readonly store: string }): OperatorFunction<StreamRecord<unknown, E>, IdCheck<E>> {
  return keyedProcess<StreamRecord<unknown, E>, boolean, IdCheck<E>, number>({
    store: options.store,
    key: (r) => r.value.id,
    init: () => false,
    onRecord: (ctx, record) => {
      if (ctx.state) {
        ctx.emit({ first: false, rejected: { record, reason: 'duplicate id' } });
        return;
      }
      ctx.state = true;
      ctx.emit({ first: true, record });
    },
  });
}
