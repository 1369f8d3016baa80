import { filter, map } from 'rxjs';
import { expect, it } from 'vitest';
import { defineProcessor, regularJoin, repartition, toTopic, windowedJoin, type StreamRecord } from '../../../src/index.js';
import { createTestDriver } from '../../../src/testing/index.js';

interface Bid {
  readonly type: 'bid';
  readonly auction: string | null;
  readonly price: number;
  readonly ts: number;
}
interface Auction {
  readonly type: 'auction';
  readonly id: string;
  readonly category: number;
  readonly ts: number;
}
type Event = Bid | Auction;
const isBid = (r: StreamRecord<string | null, Event>): r is StreamRecord<string | null, Bid> => r.value.type === 'bid';
const isAuction = (r: StreamRecord<string | null, Event>): r is StreamRecord<string | null, Auction> => r.value.type === 'auction';

// The README's join, with string keys so that the driver's queries can name them.
const bidsWithCategory = defineProcessor<string | null, Event>({
  id: 'bids',
  source: { topics: 'events', timestamp: (r) => r.value.ts },
  pipeline: (records) => {
    // Two type guards (RxJS's partition narrows only the first side).
    const bids = records.pipe(filter(isBid));
    const auctions = records.pipe(filter(isAuction));
    return bids.pipe(
      windowedJoin(auctions, {
        type: 'left', timeDifference: 10_000, grace: 1_000, store: 'bids-auctions',
        key: (bid) => bid.value.auction, otherKey: (auction) => auction.value.id,
        join: (bid, auction) => ({ price: bid.value.price, category: auction?.value.category ?? null }),
      }),
      map((joined) => ({ auction: joined.key, ...joined.value, timestamp: joined.timestamp })),
    );
  },
  sinks: { default: toTopic('bids-with-category'), late: toTopic('late') },
});

it('a windowed left join in a processor: pairs at once, an unmatched bid once its window closes, a null key to the late sink, its stores queryable', async () => {
  const driver = await createTestDriver({ processors: [bidsWithCategory] });
  const events = driver.input<string, Event>('events');
  await events.pipe([
    { key: 'a1', value: { type: 'auction', id: 'a1', category: 10, ts: 1_000 } },
    { key: 'a1', value: { type: 'bid', auction: 'a1', price: 5, ts: 5_000 } },
    { key: 'a2', value: { type: 'bid', auction: 'a2', price: 7, ts: 6_000 } },
  ]);
  expect(driver.output('bids-with-category').values()).toEqual([{ auction: 'a1', price: 5, category: 10, timestamp: 5_000 }]);
  expect(driver.query('bids', 'bids-auctions.right', 'a1')).toMatchObject({ found: true });
  // The bid on a2 can be joined until the watermark reaches 6 000 + 10 000 + 10 000 + 1 + 1 000.
  await driver.advanceEventTime(27_000);
  expect(driver.output('bids-with-category').values()).toHaveLength(1);
  await driver.advanceEventTime(27_001);
  expect(driver.output('bids-with-category').values()).toEqual([
    { auction: 'a1', price: 5, category: 10, timestamp: 5_000 },
    { auction: 'a2', price: 7, category: null, timestamp: 6_000 },
  ]);
  expect(driver.query('bids', 'bids-auctions.left', 'a2')).toMatchObject({ found: false });
  await driver.close();
});

it('a regular join in a processor: the pair whichever side came first; a record without a join key goes to the late sink', async () => {
  const q3 = defineProcessor<string | null, Event>({
    id: 'q3',
    source: { topics: 'events', timestamp: (r) => r.value.ts },
    pipeline: (records) => {
      const bids = records.pipe(filter(isBid));
      return records.pipe(
        filter(isAuction),
        regularJoin(bids, { store: 'q3', key: (a) => a.value.id, otherKey: (b) => b.value.auction, join: (a, b) => `${a.value.id}:${b.value.price}` }),
        map((joined) => joined.value),
      );
    },
    sinks: { default: toTopic('q3'), late: toTopic('late') },
  });
  const driver = await createTestDriver({ processors: [q3] });
  await driver.input<string, Event>('events').pipe([
    { key: 'a1', value: { type: 'bid', auction: 'a1', price: 3, ts: 0 } },
    { key: null, value: { type: 'bid', auction: null, price: 4, ts: 1 } },
    { key: 'a1', value: { type: 'auction', id: 'a1', category: 10, ts: 2 } },
  ]);
  expect(driver.output('q3').values()).toEqual(['a1:3']);
  expect(driver.lateRecords<StreamRecord<string | null, Bid>>('q3').map((r) => r.value.price)).toEqual([4]);
  await driver.close();
});

interface Person {
  readonly type: 'person';
  readonly id: string;
  readonly state: string;
  readonly ts: number;
}
interface Sale {
  readonly type: 'auction';
  readonly id: string;
  readonly seller: string;
  readonly ts: number;
}
type Q3Event = Person | Sale;
const isPerson = (r: StreamRecord<string, Q3Event>): r is StreamRecord<string, Person> => r.value.type === 'person';
const isSale = (r: StreamRecord<string, Q3Event>): r is StreamRecord<string, Sale> => r.value.type === 'auction';

it('a regular join of two topics keyed differently, in the stage of a repartition by each side’s join key (docs/joins.md)', async () => {
  const q3 = defineProcessor<string | null, Q3Event>({
    id: 'q3',
    source: { topics: ['persons', 'auctions'], timestamp: (r) => r.value.ts },
    pipeline: (records) => records.pipe(map((r) => r.value)),
    sinks: repartition<Q3Event>({
      name: 'by-person',
      partitions: 2,
      key: (e) => (e.type === 'auction' ? e.seller : e.id),
      pipeline: (events) =>
        events.pipe(
          filter(isSale),
          regularJoin(events.pipe(filter(isPerson)), { store: 'q3', key: (a) => a.value.seller, otherKey: (p) => p.value.id, join: (a, p) => `${a.value.id}@${p.value.state}` }),
          map((joined) => joined.value),
        ),
      sinks: toTopic('q3'),
    }),
  });
  const driver = await createTestDriver({ processors: [q3], partitions: { persons: 2, auctions: 2 } });
  await driver.input<string, Q3Event>('auctions').pipe([
    { key: 'x1', value: { type: 'auction', id: 'x1', seller: 'p1', ts: 1 }, partition: 0 },
    { key: 'x2', value: { type: 'auction', id: 'x2', seller: 'p2', ts: 2 }, partition: 1 },
  ]);
  await driver.input<string, Q3Event>('persons').pipe([
    { key: 'p1', value: { type: 'person', id: 'p1', state: 'OR', ts: 3 }, partition: 1 },
    { key: 'p2', value: { type: 'person', id: 'p2', state: 'CA', ts: 4 }, partition: 0 },
  ]);
  await driver.input<string, Q3Event>('auctions').pipe([{ key: 'x3', value: { type: 'auction', id: 'x3', seller: 'p1', ts: 5 }, partition: 1 }]);
  expect([...driver.output('q3').values()].sort()).toEqual(['x1@OR', 'x2@CA', 'x3@OR']);
  await driver.close();
});

it('without a late sink, a record with a null join key is a dead letter that says so, naming the join', async () => {
  const innerJoin = defineProcessor<string | null, Event>({
    id: 'inner-bids',
    source: { topics: 'events', timestamp: (r) => r.value.ts },
    pipeline: (records) =>
      records.pipe(filter(isBid)).pipe(
        windowedJoin(records.pipe(filter(isAuction)), {
          timeDifference: 10_000,
          key: (bid) => bid.value.auction,
          otherKey: (auction) => auction.value.id,
          join: (bid, auction) => ({ price: bid.value.price, category: auction.value.category }),
        }),
      ),
    sinks: toTopic('joined'),
  });
  const driver = await createTestDriver({ processors: [innerJoin] });
  await driver.input<string, Event>('events').pipe([{ key: null, value: { type: 'bid', auction: null, price: 3, ts: 1_000 } }]);
  const [dead] = driver.deadLetters('inner-bids');
  expect(dead).toMatchObject({ kind: 'late' });
  expect(dead.reason).toMatch(/^null join key \(windowedJoin\)$/);
  await driver.close();
});
