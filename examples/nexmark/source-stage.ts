import { filter, map, share, type Observable } from 'rxjs';
import type { PipelineContext, StreamRecord } from 'tributary';
import type { RejectedRecord } from '../shared/dead-letter-sink.js';
import type { IdentifiedResult } from '../shared/identified-result.js';
import type { Auction, Bid, LinedEvent, NexmarkEvent, Person } from './events.js';
import { lineOf } from './late-lines.js';
import { q1Currency, type Q1Row } from './q1-currency.js';
import { q2Selection, type Q2Row } from './q2-selection.js';
import { q5Counts, type AuctionCount } from './q5-hot-items.js';
import { q7PartialHighest, type PartialHighest } from './q7-highest-bid.js';
import { uniqueIds, type IdCheck } from './unique-ids.js';

type EventRecord = StreamRecord<string | null, NexmarkEvent>;

/** The input topics of a run, prefixed. */
export interface NexmarkInputTopics {
  readonly persons: string;
  readonly auctions: string;
  readonly bids: string;
}

/** What the source stage returns, on each kind of input partition (the streams it does not feed are absent). */
export type SourceStageOutputs = {
  readonly q1?: Observable<IdentifiedResult<Q1Row>>;
  readonly q2?: Observable<IdentifiedResult<Q2Row>>;
  readonly duplicates?: Observable<RejectedRecord>;
  readonly 'by-person'?: Observable<LinedEvent<Person | Auction>>;
  readonly 'auction-bids'?: Observable<LinedEvent<Auction | Bid>>;
  readonly 'q5-by-window'?: Observable<AuctionCount>;
  readonly 'q7-by-window'?: Observable<PartialHighest>;
};

const lined = <E extends NexmarkEvent>(r: StreamRecord<unknown, E>): LinedEvent<E> => ({ line: lineOf(r), event: r.value });

/** Persons or auctions, each id's first only; the others to `duplicates`. */
function firstOfEachId<E extends Person | Auction>(records: Observable<StreamRecord<unknown, E>>, store: string) {
  const checked = records.pipe(uniqueIds<E>({ store }), share());
  return {
    first: checked.pipe(
      filter((c): c is Extract<IdCheck<E>, { first: true }> => c.first),
      map((c) => lined(c.record)),
      share(),
    ),
    duplicates: checked.pipe(
      filter((c): c is Extract<IdCheck<E>, { first: false }> => !c.first),
      map((c) => c.rejected),
    ),
  };
}

/**
 * The first stage, on the input partitions: each partition actor reads one partition of one of
 * the three topics, and its pipeline is the one of that topic.
 *
 * - persons (keyed by id): duplicates of an id are dead letters; the others go, keyed by person,
 *   to the join stage of q3 and q8 (`by-person`);
 * - auctions (keyed by id): duplicates likewise; the others to `by-person` (keyed by seller) and
 *   to the winning-bids stage (`auction-bids`, keyed by id);
 * - bids (keyed by auction): q1 and q2 right here (no window, no state); q5's counts per auction
 *   and hopping window and q7's highest bids per tumbling window of this partition, each on to
 *   its ranking stage (a bid late for either is late here, against this partition's watermark);
 *   and every bid to `auction-bids`.
 *
 * @example
 * pipeline: (records, ctx) => sourceStage(records, ctx, topics),
 */
export function sourceStage(records: Observable<EventRecord>, ctx: PipelineContext, topics: NexmarkInputTopics): SourceStageOutputs {
  // Each topic holds its own type (the command line routes each line by its type).
  const only = <E extends NexmarkEvent>(type: E['type']) => records.pipe(filter((r): r is StreamRecord<string | null, E> => r.value.type === type));
  if (ctx.topic === topics.persons) {
    const persons = firstOfEachId(only<Person>('person'), 'person-ids');
    return { duplicates: persons.duplicates, 'by-person': persons.first };
  }
  if (ctx.topic === topics.auctions) {
    const auctions = firstOfEachId(only<Auction>('auction'), 'auction-ids');
    return { duplicates: auctions.duplicates, 'by-person': auctions.first, 'auction-bids': auctions.first };
  }
  if (ctx.topic === topics.bids) {
    const bids = only<Bid>('bid');
    return {
      q1: bids.pipe(q1Currency()),
      q2: bids.pipe(q2Selection()),
      'q5-by-window': bids.pipe(q5Counts(ctx)),
      'q7-by-window': bids.pipe(q7PartialHighest(ctx)),
      'auction-bids': bids.pipe(map(lined)),
    };
  }
  throw new Error(`nexmark: the source stage reads ${topics.persons}, ${topics.auctions} and ${topics.bids}, not ${ctx.topic}`);
}
