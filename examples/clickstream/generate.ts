import { seededRandom, type SeededRandom } from '../shared/seeded-random.js';
import { MINUTE_MS, SESSION_GAP_MS, type Click } from './click.js';

/** Options of {@link generateClickLines}. */
export interface ClickGeneratorOptions {
  /** Records (non-blank lines) to generate; `Infinity` for an endless stream. */
  readonly events: number;
  readonly seed: number;
  /** Event time of the simulation's start, epoch ms. Default 2024-01-01T00:00:00Z. */
  readonly start?: number;
  /** Users. Default `events / 40` (about 40 clicks each), between 20 and 20,000. */
  readonly users?: number;
  /** Share of malformed lines. Default 0.01. */
  readonly malformedShare?: number;
  /** Share of blank (empty or whitespace-only) lines added between records. Default 0.002. */
  readonly blankShare?: number;
  /** Out-of-orderness of on-time clicks: each is at most this much older than every click before it. Default 5,000 ms. */
  readonly maxDisorderMs?: number;
  /**
   * Share of clicks delayed beyond the bound (5 s to 3 min older than they should be), which may
   * be late. Default 0: generated files have no late records.
   */
  readonly lateShare?: number;
}

const DEFAULT_START = Date.UTC(2024, 0, 1);

/** Page paths, most popular first before shuffling; a few need code-unit ordering (`/Z` < `/a` < `/é`). */
const PAGES = [
  '/', '/products', '/search', '/cart', '/checkout', '/login', '/products/42', '/products/7', '/products/1001',
  '/blog', '/blog/streams-in-node', '/blog/kafka-partitions', '/about', '/contact', '/help', '/help/returns',
  '/account', '/account/orders', '/wishlist', '/deals', '/Deals', '/new', '/brands', '/brands/acme', '/careers',
  '/privacy', '/terms', '/café', '/über-uns', '/日本', '/emoji-🚀', '/products/42?ref=mail', '/a', '/B', '/faq',
  '/stores', '/gift-cards', '/sitemap', '/press', '/status',
];

const EXTERNAL_REFERRERS = [
  'https://www.google.com/', 'https://duckduckgo.com/', 'https://news.ycombinator.com/', 'https://t.co/abc123',
  'https://www.facebook.com/', 'https://www.bing.com/search?q=shoes', 'newsletter-2024-01',
];

const USER_AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)', 'curl/8.5.0'];

interface User {
  readonly id: string;
  readonly index: number;
  nextAt: number;
  clicksInSession: number;
  lastPage: string | undefined;
}

/** A binary min-heap of users by next click time (then by index, for determinism). */
class UserQueue {
  private readonly heap: User[] = [];
  private before(a: User, b: User): boolean {
    return a.nextAt < b.nextAt || (a.nextAt === b.nextAt && a.index < b.index);
  }
  push(user: User): void {
    const h = this.heap;
    h.push(user);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }
  pop(): User {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Zipf-like popularity (weight 1 / rank^1.1) over the pages, in a seeded order. */
function pagePicker(random: SeededRandom): () => string {
  const pages = [...PAGES];
  for (let i = pages.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [pages[i], pages[j]] = [pages[j], pages[i]];
  }
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= pages.length; rank++) {
    total += 1 / rank ** 1.1;
    cumulative.push(total);
  }
  return () => {
    const x = random.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return pages[lo];
  };
}

/** The ways a line can be malformed; each keeps the click's key where it can, so it lands in the user's partition. */
const MALFORMED: ReadonlyArray<(c: Click, random: SeededRandom) => string> = [
  (c, random) => {
    const full = JSON.stringify(c);
    return full.slice(0, random.int(1, full.length - 1)); // truncated JSON
  },
  (c) => `userId=${c.userId}&page=${c.page}&ts=${c.ts}`, // not JSON
  (c) => `${JSON.stringify(c)} trailing`, // garbage after the object
  (c) => JSON.stringify({ page: c.page, ts: c.ts }), // missing userId
  (c) => JSON.stringify({ userId: c.userId, ts: c.ts }), // missing page
  (c) => JSON.stringify({ userId: c.userId, page: c.page }), // missing ts
  (c) => JSON.stringify({ ...c, ts: String(c.ts) }), // ts as a string
  (c) => JSON.stringify({ ...c, ts: true }), // a boolean is not a number
  (c) => JSON.stringify({ ...c, userId: 4242 }), // userId as a number
  (c) => JSON.stringify({ ...c, page: null }), // null required field
  (c) => JSON.stringify({ ...c, page: ['/', '/cart'] }), // page as an array
  (c) => JSON.stringify({ ...c, referrer: null }), // optional field present as null
  (c) => JSON.stringify({ ...c, referrer: 7 }), // optional field of the wrong type
  (c) => JSON.stringify(c).replace(/"ts":(\d+)/, '"ts":$1.5'), // float
  (c) => JSON.stringify(c).replace(/"ts":(\d+)/, '"ts":9007199254740993'), // not a safe integer
  (c) => JSON.stringify(c).replace(/"ts":(\d+)/, '"ts":-1e400'), // overflows to -Infinity
  (c) => `{"__proto__":{"polluted":true},${JSON.stringify(c).slice(1)}`, // prototype pollution
  (c) => `${JSON.stringify(c).slice(0, -1)},"meta":{"constructor":{"prototype":{"polluted":true}}}}`,
  (c, random) => random.pick(['[1,2,3]', '"click"', 'null', '42', 'true', `[${JSON.stringify(c)}]`]), // not an object
  () => '{}',
  (c, random) => JSON.stringify({ ...c, ts: String(c.ts), blob: 'x'.repeat(random.int(100_000, 140_000)) }), // huge and invalid
];

/** A valid click that is too large to produce (over 1,000,000 bytes): dead-lettered by the command line. */
function oversized(c: Click): string {
  return JSON.stringify({ ...c, blob: 'y'.repeat(1_050_000) });
}

/**
 * Generates clickstream input lines, deterministically for a seed.
 *
 * Users come back in sessions: within a session the next click follows after about 40 s
 * (exponential, capped at the 30-minute gap; sometimes exactly 30 minutes), sessions end after
 * one click about a third of the time (bounces) and otherwise after about 7, and the next one
 * starts 30 minutes + about 70 minutes later (sometimes exactly 30 minutes + 1 ms). Page
 * popularity is Zipf-like; about half the sessions start with an external referrer. Clicks come
 * in event-time order, each shifted back by up to `maxDisorderMs` (35% of them), so no click is
 * more than 5 s older than one before it. About 1% of lines are malformed (bad JSON, missing
 * fields, wrong types, `null` referrer, floats, unsafe integers, `__proto__` keys, non-objects,
 * huge lines; and, once per 50,000 and once in the middle of any file of 1,000 or more, a line
 * over 1,000,000 bytes), and a few are blank.
 *
 * @example
 * for (const line of generateClickLines({ events: 5, seed: 1 })) console.log(line);
 */
export function* generateClickLines(options: ClickGeneratorOptions): Generator<string> {
  const { events, seed } = options;
  if (!(events >= 0) || (events !== Infinity && !Number.isSafeInteger(events))) throw new RangeError(`events must be a non-negative integer or Infinity, got ${events}`);
  const random = seededRandom(seed);
  const start = options.start ?? DEFAULT_START;
  const userCount = options.users ?? Math.max(20, Math.min(20_000, Math.ceil((events === Infinity ? 200_000 : events) / 40)));
  const malformedShare = options.malformedShare ?? 0.01;
  const blankShare = options.blankShare ?? 0.002;
  const maxDisorder = options.maxDisorderMs ?? 5_000;
  const lateShare = options.lateShare ?? 0;
  const nextPage = pagePicker(random);
  const queue = new UserQueue();
  for (let i = 0; i < userCount; i++) {
    queue.push({ id: `user-${(i * 7919 + seed).toString(36)}-${i}`, index: i, nextAt: start + random.int(0, 2 * 3_600_000), clicksInSession: 0, lastPage: undefined });
  }
  const middle = events !== Infinity && events >= 1_000 ? Math.floor(events / 2) : -1;

  for (let n = 0; n < events; n++) {
    const user = queue.pop();
    const t = user.nextAt;
    user.clicksInSession++;
    const page = nextPage();
    let ts = t;
    if (lateShare > 0 && random.chance(lateShare)) ts = t - maxDisorder - random.int(1, 3 * MINUTE_MS);
    else if (random.chance(0.35)) ts = t - random.int(0, maxDisorder);
    const click: Click = { userId: user.id, page, ts };
    if (user.clicksInSession === 1 ? random.chance(0.55) : random.chance(0.08)) {
      click.referrer = user.clicksInSession === 1 || user.lastPage === undefined ? random.pick(EXTERNAL_REFERRERS) : `https://shop.example.com${user.lastPage}`;
    }
    user.lastPage = page;

    // The next click of this user: same session, or a new one after a gap.
    const ends = user.clicksInSession >= 80 || random.chance(user.clicksInSession === 1 ? 0.35 : 0.15);
    if (ends) {
      user.clicksInSession = 0;
      user.nextAt = t + (random.chance(0.02) ? SESSION_GAP_MS + 1 : SESSION_GAP_MS + 1 + Math.floor(random.exponential(70 * MINUTE_MS)));
    } else if (random.chance(0.01)) {
      user.nextAt = t + SESSION_GAP_MS;
    } else {
      user.nextAt = t + Math.min(SESSION_GAP_MS, Math.floor(random.exponential(40_000)));
    }
    queue.push(user);

    if (random.chance(blankShare)) yield random.pick(['', '   ', '\t']);
    if (n === middle || random.chance(1 / 50_000)) {
      yield oversized(click);
    } else if (random.chance(malformedShare)) {
      yield random.pick(MALFORMED)(click, random);
    } else if (random.chance(0.03)) {
      yield JSON.stringify({ ua: random.pick(USER_AGENTS), ...click }); // extra fields are allowed
    } else if (random.chance(0.002)) {
      yield JSON.stringify(click).replace(/"ts":(\d+)/, (_, digits: string) => `"ts":${Number(digits).toExponential()}`); // an integer in exponent form
    } else {
      yield JSON.stringify(click);
    }
  }
}
