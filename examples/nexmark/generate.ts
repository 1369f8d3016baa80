import { seededRandom, type SeededRandom } from '../shared/seeded-random.js';
import type { Auction, Bid, NexmarkEvent, Person } from './events.js';
import { MALFORMED_EVENTS } from './malformed-events.js';
import { Q3_CATEGORY } from './q3-local-items.js';

/** Options of {@link generateNexmarkLines}. */
export interface NexmarkGeneratorOptions {
  /** Records (non-blank lines) to generate. */
  readonly events: number;
  readonly seed: number;
  /** Event time of the first event, epoch ms. Default 2024-01-01T00:00:00Z. */
  readonly start?: number;
  /** Mean event-time step between events, ms. Default 5 (200 events a second). */
  readonly stepMs?: number;
  /** Share of malformed lines. Default 0.01. */
  readonly malformedShare?: number;
  /** Share of persons and auctions that repeat an earlier id (dead letters). Default 0.01. */
  readonly duplicateShare?: number;
  /** Share of blank lines added between records. Default 0.002. */
  readonly blankShare?: number;
  /** Each event is at most this much older than every event before it. Default 5,000 ms. */
  readonly maxDisorderMs?: number;
  /** Share of events delayed beyond the bound (5 s to 1 min more), which may be late. Default 0. */
  readonly lateShare?: number;
  /** Whether a file of 1,000 events or more holds one line over 1,000,000 bytes (dead-lettered by the command line). Default true. */
  readonly oversized?: boolean;
}

const DEFAULT_START = Date.UTC(2024, 0, 1);
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];
const ITEMS = ['vase', 'lamp', 'bicycle', 'camera', 'guitar', 'watch', 'rug', 'chair', 'print', 'radio'];

interface OpenAuction {
  readonly id: number;
  readonly expires: number;
  readonly price: number;
}

/** Picks one of the last `n` entries of `items`, the latest most often (hot items, new sellers). */
function recent<T>(random: SeededRandom, items: readonly T[], n: number): T | undefined {
  if (items.length === 0) return undefined;
  const span = Math.min(n, items.length);
  return items[items.length - 1 - Math.floor(span * random.next() ** 2)];
}

/**
 * Generates nexmark input lines, deterministically for a seed, in Nexmark's proportions: about
 * 2% persons, 6% auctions and 92% bids, one event every ~5 ms of event time.
 *
 * Persons live in six western states (`OR`, `ID` and `CA` among them, for q3). An auction's
 * seller is usually a person registered in the last few seconds (so q8 finds new users who
 * sell), sometimes anyone, rarely a person that does not exist; it is in one of 20 categories
 * (q3's is 10) and runs 2 to 40 s. Bids go mostly to the open auctions opened last (hot items,
 * for q5), at prices that climb in steps of 10 (ties, for q7 and winning-bids), now and then
 * below the reserve, after the auction expired, or to an auction that never appears. Events come
 * in event-time order, each shifted back by up to `maxDisorderMs` (a third of them), so none
 * is more than the bound older than one before it; `lateShare` delays some beyond it. About 1%
 * of lines are malformed, 1% of persons and auctions repeat an earlier id, a few lines are blank,
 * and a file of 1,000 events or more has one line over 1,000,000 bytes.
 *
 * @example
 * for (const line of generateNexmarkLines({ events: 5, seed: 1 })) console.log(line);
 */
export function* generateNexmarkLines(options: NexmarkGeneratorOptions): Generator<string> {
  const { events, seed } = options;
  if (!Number.isSafeInteger(events) || events < 0) throw new RangeError(`events must be a non-negative integer, got ${events}`);
  const random = seededRandom(seed);
  const step = options.stepMs ?? 5;
  const malformedShare = options.malformedShare ?? 0.01;
  const duplicateShare = options.duplicateShare ?? 0.01;
  const blankShare = options.blankShare ?? 0.002;
  const maxDisorder = options.maxDisorderMs ?? 5_000;
  const lateShare = options.lateShare ?? 0;
  const oversizedAt = (options.oversized ?? true) && events >= 1_000 ? Math.floor(events / 2) : -1;
  const persons: number[] = [];
  const auctions: OpenAuction[] = [];
  let nextPerson = 1_000;
  let nextAuction = 1_000;
  let t = options.start ?? DEFAULT_START;

  const dateTime = (): number => {
    if (lateShare > 0 && random.chance(lateShare)) return t - maxDisorder - random.int(1, 60_000);
    return random.chance(1 / 3) ? t - random.int(0, maxDisorder) : t;
  };
  const person = (): Person => {
    const id = persons.length > 0 && random.chance(duplicateShare) ? random.pick(persons) : nextPerson++;
    if (id === nextPerson - 1) persons.push(id);
    const name = `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
    return {
      type: 'person', id, name, emailAddress: `${name.replace(' ', '.').toLowerCase()}@example.com`,
      creditCard: Array.from({ length: 4 }, () => String(random.int(1000, 9999))).join(' '),
      city: random.pick(CITIES), state: random.pick(STATES), dateTime: dateTime(),
    };
  };
  const auction = (): Auction => {
    const duplicate = auctions.length > 0 && random.chance(duplicateShare);
    const id = duplicate ? random.pick(auctions).id : nextAuction++;
    const seller = random.chance(0.6) ? (recent(random, persons, 20) ?? nextPerson) : random.chance(0.95) ? (recent(random, persons, 10_000) ?? nextPerson) : nextPerson + random.int(0, 5);
    const initialBid = random.int(1, 100) * 10;
    const at = dateTime();
    const expires = at + random.int(2_000, 40_000);
    if (!duplicate) auctions.push({ id, expires, price: initialBid });
    return {
      type: 'auction', id, itemName: random.pick(ITEMS), description: `a ${random.pick(ITEMS)} in good condition`, initialBid,
      reserve: initialBid + random.int(0, 20) * 10, dateTime: at, expires, seller,
      category: random.chance(0.15) ? Q3_CATEGORY : random.int(0, 19), ...(random.chance(0.1) ? { extra: 'x'.repeat(random.int(1, 40)) } : {}),
    };
  };
  const bid = (): Bid => {
    while (auctions.length > 0 && auctions.length > 400) auctions.shift(); // only recent auctions get bids
    const open = recent(random, auctions, 60);
    const price = open ? open.price + random.int(0, 3) * 10 : random.int(1, 1_000);
    const target = open && !random.chance(0.01) ? open : undefined;
    if (target) (target as { price: number }).price = Math.max(target.price, price);
    return {
      type: 'bid', auction: target?.id ?? nextAuction + random.int(1, 50), bidder: recent(random, persons, 10_000) ?? 1_000,
      price: random.chance(0.02) ? -price : price, channel: random.pick(CHANNELS), url: `https://www.nexmark.com/item.htm?query=${random.int(1, 99)}`,
      dateTime: dateTime(),
    };
  };

  for (let n = 0; n < events; n++) {
    t += Math.floor(random.exponential(step));
    const roll = random.next();
    const event: NexmarkEvent = roll < 0.02 || persons.length === 0 ? person() : roll < 0.08 ? auction() : bid();
    if (random.chance(blankShare)) yield random.pick(['', '   ', '\t']);
    if (n === oversizedAt) yield JSON.stringify({ ...event, extra: 'y'.repeat(1_050_000) });
    else if (random.chance(malformedShare)) yield random.pick(MALFORMED_EVENTS)(event, random);
    else if (random.chance(0.002)) yield JSON.stringify({ ...event, ignored: { nested: [1, 2] } }); // fields not listed are ignored
    else yield JSON.stringify(event);
  }
}
