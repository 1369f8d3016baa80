import { afterEach, describe, expect, it } from 'vitest';
import { toFunction, toTopic, type Sink } from '../../../src/index.js';
import { createTestDriver, type TestDriver } from '../../../src/testing/index.js';
import { NEXMARK_OUTPUTS, nexmarkProcessors } from '../../../examples/nexmark/app.js';
import type { Auction, Bid, Person } from '../../../examples/nexmark/events.js';
import type { SellerTotal } from '../../../examples/nexmark/seller-totals.js';
import type { WinningBid } from '../../../examples/nexmark/winning-bids.js';

const T = Date.UTC(2024, 0, 1);

/** The nexmark processors as `npm run example -- nexmark` runs them, outputs to topics. */
function processors() {
  const sinks: Record<string, Sink<unknown>> = { late: toFunction('late', () => undefined) };
  for (const output of NEXMARK_OUTPUTS) sinks[output] = toTopic(output);
  return nexmarkProcessors({ prefix: '', inputTopic: 'bids', inputTopics: { persons: 'persons', auctions: 'auctions', bids: 'bids' }, partitions: 2, outOfOrdernessMs: 5_000, sinks });
}

const person = (id: number, dateTime: number): { key: string; value: Person } => ({
  key: String(id),
  value: { type: 'person', id, name: `p${id}`, emailAddress: 'e', creditCard: 'c', city: 'Boise', state: 'ID', dateTime },
});
const auction = (id: number, seller: number, dateTime: number, expires: number): { key: string; value: Auction } => ({
  key: String(id),
  value: { type: 'auction', id, itemName: 'i', description: 'd', initialBid: 1, reserve: 10, dateTime, expires, seller, category: 10 },
});
const bid = (auctionId: number, bidder: number, price: number, dateTime: number): { key: string; value: Bid } => ({
  key: String(auctionId),
  value: { type: 'bid', auction: auctionId, bidder, price, channel: 'c', url: 'u', dateTime },
});

let driver: TestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('nexmark under the test driver', () => {
  it('fires an auction only once the watermark of every input topic has passed its expiry: a join stage follows the minimum of its inputs', async () => {
    driver = await createTestDriver({ processors: processors() });
    const wins = driver.output<WinningBid>('winning-bids');
    await driver.input<string, Auction>('auctions').pipe(auction(1, 9, T, T + 5_000));
    await driver.input<string, Bid>('bids').pipe([bid(1, 2, 40, T + 1_000), bid(1, 3, 60, T + 5_000), bid(7, 1, 1, T + 20_000)]);
    // The bids' watermark (T + 15 s) has passed T + 5 s; the auctions' and the persons' have not.
    expect(wins.values()).toEqual([]);
    await driver.input<string, Auction>('auctions').pipe(auction(2, 9, T + 10_004, T + 30_000));
    expect(wins.values()).toEqual([]); // auctions at T + 5,004 now; persons still at -∞
    await driver.input<string, Person>('persons').pipe(person(5, T + 10_000));
    expect(wins.values()).toEqual([]); // persons at exactly T + 5,000: not past expires
    await driver.input<string, Person>('persons').pipe(person(6, T + 10_001));
    expect(wins.values()).toEqual([{ auction: 1, seller: 9, category: 10, price: 60, bidder: 3, bidDateTime: T + 5_000 }]);
    await driver.endInput();
    expect(driver.output<SellerTotal>('seller-totals').values()).toEqual([{ seller: 9, auctions: 1, revenue: 60 }]);
  });

  it('gives the same winning bids, seller totals and q8 after a failure in the join stage: its stores are restored and the rest replayed', async () => {
    const run = async (failing: boolean) => {
      const d = await createTestDriver({ processors: processors(), partitions: { persons: 2, auctions: 2, bids: 2 } });
      if (failing) d.failAt({ processor: 'nexmark-auction-bids', when: (r) => (r.value as { event: { type: string; price?: number } }).event.price === 77 });
      const persons = d.input<string, Person>('persons');
      const auctions = d.input<string, Auction>('auctions');
      const bids = d.input<string, Bid>('bids');
      for (let i = 0; i < 6; i++) {
        const t = T + i * 4_000;
        await persons.pipe(person(100 + i, t));
        await auctions.pipe(auction(i, 100 + (i % 3), t + 500, t + 6_000));
        await bids.pipe([bid(i, 1, 20 + i, t + 1_000), bid(i, 2, i === 3 ? 77 : 15, t + 2_000), bid(Math.max(0, i - 1), 3, 50, t + 3_000)]);
        await d.advanceWallClock(1_000); // commits between the rounds
      }
      await d.advanceWallClock(1_000);
      await d.endInput();
      const sort = <V>(values: V[]): V[] => values.map((v) => JSON.stringify(v)).sort().map((s) => JSON.parse(s) as V);
      const result = {
        wins: sort(d.output<WinningBid>('winning-bids').values()),
        totals: d.output<SellerTotal>('seller-totals').values(),
        q8: sort(d.output('q8').values()),
        failures: d.lifecycle.filter((e) => e.type === 'partition.failed').length,
      };
      await d.close();
      return result;
    };
    const clean = await run(false);
    const failed = await run(true);
    expect(clean.failures).toBe(0);
    expect(failed.failures).toBeGreaterThanOrEqual(1);
    expect(clean.wins).toHaveLength(6);
    expect(clean.wins.find((w) => w.auction === 3)).toMatchObject({ price: 77, bidder: 2 });
    expect(failed.wins).toEqual(clean.wins);
    expect(failed.q8).toEqual(clean.q8);
    // seller-totals is a table: every update is emitted; its last value per seller is what counts.
    const last = (totals: SellerTotal[]) => Object.fromEntries(totals.map((t) => [t.seller, t]));
    expect(last(failed.totals)).toEqual(last(clean.totals));
  });
});
