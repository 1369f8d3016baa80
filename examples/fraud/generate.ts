import { ConfigError } from 'tributary';
import { seededRandom } from '../shared/seeded-random.js';

/**
 * Options of {@link generateTransactions}.
 *
 * @example
 * const options: GenerateOptions = { records: 10_000, seed: 1, lateShare: 0.01 };
 */
export interface GenerateOptions {
  /** Lines to generate (valid and malformed together). */
  readonly records: number;
  /** Same seed, same lines. */
  readonly seed: number;
  /** Share of malformed lines. Default 0.01. */
  readonly malformedShare?: number;
  /**
   * A line comes at most this many ms of event time after a line with a later timestamp. Default
   * 4,999: within the default bound of 5,000 ms, so no transaction is late, whatever the
   * partitioning.
   */
  readonly maxDisorderMs?: number;
  /** Share of valid transactions delayed by 5 to 65 s beyond that (most become late). Default 0. */
  readonly lateShare?: number;
  /** Event time of the first transaction. Default 2024-01-01T00:00:00Z. */
  readonly startTs?: number;
  /** Number of cards. Default `max(20, records / 25)`. */
  readonly cards?: number;
}

const COUNTRIES = ['US', 'GB', 'FR', 'DE', 'ES', 'IT', 'NL', 'SE', 'JP', 'BR', 'CA', 'AU', 'IN', 'MX', 'PL'];
const CATEGORIES = ['grocer', 'fuel', 'cafe', 'online', 'pharmacy', 'transit', 'bookshop', 'electronics', 'jeweller', 'hotel', 'kiosk'];
const MERCHANTS = CATEGORIES.flatMap((category) => Array.from({ length: 30 }, (_, i) => `${category}-${i + 1}`));
const CHANNELS = ['pos', 'online', 'contactless', 'atm'];

interface Card {
  readonly id: string;
  readonly home: string;
  country: string;
  readonly favourites: readonly string[];
  /** The card's typical amount, cents. */
  readonly median: number;
}

interface Tx {
  txId: string;
  cardId: string;
  amount: number;
  merchant: string;
  country: string;
  ts: number;
  channel?: string;
}

/**
 * Input for the fraud example: `records` JSON lines, seeded and realistic enough to exercise
 * every rule.
 *
 * - Cards (default one per 25 lines) with a home country, favourite merchants and a typical
 *   amount; popularity is skewed (a few cards are busy); amounts are log-normal around the
 *   card's typical amount (median 25.00 overall), 0.50 to 5,000.00.
 * - Ordinary traffic (a transaction every second on average) plus, now and then, a scenario:
 *   a burst of 5-8 transactions within a minute (velocity), an amount 8-25× the card's usual
 *   (amount-spike), a trip abroad starting minutes after a purchase at home
 *   (impossible-travel), a few purchases of at most 2.00 followed by a large one elsewhere
 *   within 10 minutes (card-testing), and each rule's thresholds hit exactly (a 5th
 *   transaction exactly 60,000 ms later or 59,999, 200 and 50,000 cents exactly 600,000 ms
 *   apart or 600,001, another country exactly 3,600,000 ms later or 3,600,001, an amount of
 *   exactly 5× the mean or one cent more, transactions with equal timestamps).
 * - Unique `txId`s (not in time order, so ties by `txId` matter); some lines carry an extra
 *   field (`channel`), which is allowed.
 * - Bounded disorder: lines are shuffled by up to `maxDisorderMs` of event time.
 * - About `malformedShare` of the lines are invalid: broken JSON, a missing field, a float or
 *   boolean amount, a string timestamp, a `null` string, an unsafe integer, a `__proto__` key,
 *   a JSON array.
 *
 * @example
 * const lines = generateTransactions({ records: 20_000, seed: 42 });
 * writeFileSync('transactions.jsonl', lines.join('\n') + '\n');
 */
export function generateTransactions(options: GenerateOptions): string[] {
  const { records, seed } = options;
  if (!Number.isSafeInteger(records) || records < 0) throw new ConfigError('generate.records', `must be a non-negative integer, got ${String(records)}`);
  const malformedShare = share('generate.malformedShare', options.malformedShare ?? 0.01);
  const lateShare = share('generate.lateShare', options.lateShare ?? 0);
  const maxDisorder = options.maxDisorderMs ?? 4_999;
  if (!Number.isSafeInteger(maxDisorder) || maxDisorder < 0) throw new ConfigError('generate.maxDisorderMs', `must be a non-negative integer, got ${String(maxDisorder)}`);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ConfigError('generate.seed', `must be a number, got ${String(seed)}`);
  const random = seededRandom(seed);
  const rand = random.next;
  const { int, pick } = random;
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const cents = (median: number, sigma: number): number => Math.min(500_000, Math.max(50, Math.round(median * Math.exp(sigma * normal()))));

  const malformedCount = Math.round(records * malformedShare);
  const validCount = records - malformedCount;
  const cardCount = options.cards ?? Math.max(20, Math.round(records / 25));
  const cards: Card[] = Array.from({ length: cardCount }, (_, i) => {
    const home = pick(COUNTRIES);
    return {
      id: `card-${String(i + 1).padStart(5, '0')}`,
      home,
      country: home,
      favourites: Array.from({ length: 5 }, () => pick(MERCHANTS)),
      median: cents(2_500, 0.6),
    };
  });
  // Skewed popularity: weight 1 / (i + 1)^0.6.
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < cardCount; i++) cumulative.push((total += 1 / Math.pow(i + 1, 0.6)));
  const anyCard = (): Card => {
    const x = rand() * total;
    let lo = 0;
    let hi = cardCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return cards[lo];
  };

  let seq = 0;
  const txId = (): string => `tx-${Math.floor(rand() * 0x1000000).toString(16).padStart(6, '0')}${(seq++).toString(36).padStart(5, '0')}`;
  const valid: Tx[] = [];
  const add = (card: Card, ts: number, amount: number, merchant: string, country = card.country): void => {
    const tx: Tx = { txId: txId(), cardId: card.id, amount, merchant, country, ts };
    if (rand() < 0.1) tx.channel = pick(CHANNELS);
    valid.push(tx);
  };
  const merchantOf = (card: Card): string => (rand() < 0.7 ? pick(card.favourites) : pick(MERCHANTS));
  const otherCountry = (country: string): string => {
    let c = pick(COUNTRIES);
    while (c === country) c = pick(COUNTRIES);
    return c;
  };

  const scenarios: Array<(t: number) => void> = [
    // velocity: a burst within a minute
    (t) => {
      const card = anyCard();
      const n = int(5, 8);
      for (let i = 0; i < n; i++) add(card, t + int(0, 50_000), cents(card.median, 0.5), merchantOf(card));
    },
    // amount-spike
    (t) => {
      const card = anyCard();
      add(card, t, Math.min(5_000_000, Math.round(card.median * (8 + rand() * 17))), pick(MERCHANTS));
    },
    // impossible-travel: a purchase at home, then abroad minutes later
    (t) => {
      const card = anyCard();
      add(card, t, cents(card.median, 0.5), merchantOf(card), card.home);
      card.country = otherCountry(card.home);
      add(card, t + int(60_000, 3_000_000), cents(card.median, 0.8), pick(MERCHANTS));
    },
    // card-testing: a few tiny purchases, then a large one elsewhere
    (t) => {
      const card = anyCard();
      const tester = pick(MERCHANTS.filter((m) => m.startsWith('kiosk') || m.startsWith('online')));
      const tests = int(1, 3);
      for (let i = 0; i < tests; i++) add(card, t + i * int(1_000, 30_000), int(50, 200), tester);
      add(card, t + int(60_000, 560_000), int(50_000, 300_000), pick(MERCHANTS.filter((m) => m !== tester)));
    },
    // every threshold exactly, and one past it
    (t) => {
      const card = anyCard();
      const past = rand() < 0.5 ? 1 : 0;
      const m = pick(MERCHANTS);
      for (let i = 0; i < 4; i++) add(card, t + i, 1_000, m);
      add(card, t + 59_999 + past, 5_000 + past, m); // velocity at 59,999 ms; spike: 5 × mean (+1)
      add(card, t + 120_000, 200, 'kiosk-1');
      add(card, t + 720_000 + past, 50_000, 'jeweller-1'); // card-testing at exactly 600,000 ms (or 600,001)
      add(card, t + 720_000 + 3_600_000 + past, 1_500, m, otherCountry(card.country)); // travel at exactly 1 h (or 1 h + 1 ms)
      add(card, t + 720_000 + 3_600_000 + past, 1_600, m, card.country); // a tie on ts: the order is by txId
    },
  ];

  let t = options.startTs ?? Date.UTC(2024, 0, 1);
  while (valid.length < validCount) {
    t += Math.max(1, Math.round(random.exponential(1_000)));
    if (rand() < 0.02) {
      scenarios[Math.floor(rand() * scenarios.length)](t);
      continue;
    }
    const card = anyCard();
    if (card.country !== card.home && rand() < 0.2) card.country = card.home; // back home
    else if (rand() < 0.001) card.country = otherCountry(card.country); // a trip
    add(card, t, cents(card.median, 0.8), merchantOf(card));
  }
  valid.sort((a, b) => a.ts - b.ts);
  valid.length = validCount;

  // Arrival order: each line shifted later by up to maxDisorder (a few by far more: late).
  const arrival = valid.map((tx, i) => {
    let at = tx.ts + int(0, maxDisorder);
    if (lateShare > 0 && rand() < lateShare) at += maxDisorder + int(5_001, 65_000);
    return { at, i };
  });
  arrival.sort((a, b) => a.at - b.at || a.i - b.i);
  const lines = arrival.map(({ i }) => JSON.stringify(valid[i]));

  for (let k = 0; k < malformedCount; k++) {
    const base = valid.length > 0 ? valid[int(0, valid.length - 1)] : { txId: 'tx-x', cardId: 'card-x', amount: 1, merchant: 'm', country: 'US', ts: 0 };
    const broken = { ...base, txId: txId() };
    const at = int(0, lines.length);
    lines.splice(at, 0, malformed(broken, k % MALFORMED_KINDS));
  }
  return lines;
}

const MALFORMED_KINDS = 10;

/** One invalid line of kind `kind` (0-9), made from a valid transaction. */
function malformed(tx: Tx, kind: number): string {
  const json = JSON.stringify(tx);
  switch (kind) {
    case 0:
      return json.slice(0, Math.max(1, Math.floor(json.length / 2))); // truncated JSON
    case 1: {
      const { merchant: _merchant, ...rest } = tx;
      return JSON.stringify(rest); // a missing field
    }
    case 2:
      return JSON.stringify({ ...tx, amount: tx.amount + 0.5 }); // a float amount
    case 3:
      return JSON.stringify({ ...tx, amount: true }); // a boolean is not a number
    case 4:
      return `{"__proto__":{"isAdmin":true},${json.slice(1)}`; // prototype pollution
    case 5:
      return JSON.stringify({ ...tx, ts: String(tx.ts) }); // a numeric string
    case 6:
      return JSON.stringify({ ...tx, country: null }); // null is not a string
    case 7:
      return json.replace(/"amount":-?\d+/, '"amount":9007199254740993'); // beyond 2^53 - 1
    case 8:
      return JSON.stringify([tx]); // not an object
    default:
      return `txId=${tx.txId};cardId=${tx.cardId}`; // not JSON at all
  }
}

function share(setting: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new ConfigError(setting, `must be a number from 0 to 1, got ${String(value)}`);
  return value;
}
