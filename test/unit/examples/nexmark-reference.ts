/**
 * An independent reference for the nexmark example, written from the spec
 * (/work/shared/specs/nexmark.md) as plain loops over the input lines. It shares no code with
 * the app: parsing, validation, duplicate ids, the late rules and every output are here. The
 * only library function it uses is Kafka's key → partition mapping (murmur2), which decides
 * which events share an input partition and so a watermark.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { partitionForKey } from '../../../src/connectors/partitioner.js';

const BOUND = 5_000;
const WINDOW = 10_000;
const HOP = 2_000;
const MAX_RECORD_BYTES = 1_000_000;

type Fields = Record<string, unknown>;
interface RefEvent {
  readonly type: 'person' | 'auction' | 'bid';
  readonly line: number;
  readonly f: Record<string, number | string>;
  /** The watermark of its input partition before it. */
  readonly w: number;
}

export interface NexmarkReference {
  readonly recordsIn: number;
  /** Line number → line text. */
  readonly deadLetters: Map<number, string>;
  /** Line number → reason ('duplicate id' for duplicates). */
  readonly reasons: Map<number, string>;
  readonly late: Map<number, string>;
  /** Output name → its rows as JSON lines (a multiset). */
  readonly outputs: Record<string, string[]>;
}

const FIELDS: Record<string, Record<string, 'int' | 'string'>> = {
  person: { id: 'int', name: 'string', emailAddress: 'string', creditCard: 'string', city: 'string', state: 'string', dateTime: 'int' },
  auction: { id: 'int', itemName: 'string', description: 'string', initialBid: 'int', reserve: 'int', dateTime: 'int', expires: 'int', seller: 'int', category: 'int' },
  bid: { auction: 'int', bidder: 'int', price: 'int', channel: 'string', url: 'string', dateTime: 'int' },
};

function hasForbiddenKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  if (own(value, '__proto__')) return true;
  const ctor = (value as { constructor?: unknown }).constructor;
  if (own(value, 'constructor') && ctor !== null && typeof ctor === 'object' && own(ctor, 'prototype')) return true;
  return Object.values(value).some(hasForbiddenKey);
}

function parseObject(line: string): Fields | undefined {
  try {
    const parsed = JSON.parse(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Fields) : undefined;
  } catch {
    return undefined;
  }
}

/** The spec's validity (plus the library's refusal of `__proto__` / `constructor.prototype` keys). */
export function parseEvent(line: string): { type: RefEvent['type']; f: RefEvent['f'] } | undefined {
  const o = parseObject(line);
  if (!o || hasForbiddenKey(o)) return undefined;
  const type = o.type;
  if (type !== 'person' && type !== 'auction' && type !== 'bid') return undefined;
  const f: RefEvent['f'] = {};
  for (const [name, kind] of Object.entries(FIELDS[type])) {
    const v = o[name];
    if (kind === 'int' ? typeof v !== 'number' || !Number.isSafeInteger(v) : typeof v !== 'string') return undefined;
    f[name] = v as number | string;
  }
  if ('extra' in o && typeof o.extra !== 'string') return undefined;
  if (type === 'auction' && !((f.expires as number) > (f.dateTime as number))) return undefined;
  return { type, f };
}

/** The key the command line produces a line with, and its topic. */
function placement(line: string): { topic: string; key: string | null } {
  const o = parseObject(line);
  const type = o?.type;
  const topic = type === 'person' ? 'persons' : type === 'auction' ? 'auctions' : 'bids';
  const field = o === undefined ? undefined : type === 'bid' ? o.auction : o.id;
  return { topic, key: typeof field === 'number' && Number.isSafeInteger(field) ? String(field) : null };
}

const int = (e: RefEvent, name: string): number => e.f[name] as number;
const str = (e: RefEvent, name: string): string => e.f[name] as string;
const start = (ts: number, size: number): number => Math.floor(ts / size) * size;

function euros(price: number): number {
  const scaled = BigInt(price) * 908n;
  const q = scaled / 1000n;
  return Number(scaled < 0n && scaled % 1000n !== 0n ? q - 1n : q);
}

/**
 * The expected files for `lines` run with `partitions` partitions. Each input partition's
 * watermark is the largest `dateTime` of the valid events it has read (duplicates included),
 * minus 5,000 ms. An event is late for an output when, by the watermark of its partition before
 * it: q5 its earliest hopping window has ended; q7 or q8 its tumbling window has ended
 * (`end ≤ W`); winning-bids an auction whose `expires < W`, a bid in its auction's span
 * `[dateTime, expires]` whose auction's `expires < W`.
 */
export function nexmarkReference(lines: readonly string[], partitions: number): NexmarkReference {
  const deadLetters = new Map<number, string>();
  const reasons = new Map<number, string>();
  const late = new Map<number, string>();
  const maxSeen = new Map<string, number>();
  const personIds = new Set<number>();
  const auctionIds = new Set<number>();
  const events: RefEvent[] = [];
  let nonBlank = 0;

  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === '') return;
    nonBlank++;
    const { topic, key } = placement(text);
    if (Buffer.byteLength(text, 'utf8') + (key === null ? 0 : Buffer.byteLength(key, 'utf8')) > MAX_RECORD_BYTES) {
      deadLetters.set(line, text);
      reasons.set(line, 'oversized');
      return;
    }
    const parsed = parseEvent(text);
    if (!parsed) {
      deadLetters.set(line, text);
      reasons.set(line, 'invalid');
      return;
    }
    const where = `${topic}:${partitionForKey(key!, partitions)}`;
    const seen = maxSeen.get(where) ?? -Infinity;
    const w = seen - BOUND;
    maxSeen.set(where, Math.max(seen, parsed.f.dateTime as number));
    if (parsed.type !== 'bid') {
      const ids = parsed.type === 'person' ? personIds : auctionIds;
      const id = parsed.f.id as number;
      if (ids.has(id)) {
        deadLetters.set(line, text);
        reasons.set(line, 'duplicate id');
        return;
      }
      ids.add(id);
    }
    events.push({ type: parsed.type, line, f: parsed.f, w });
  });

  const text = (e: RefEvent): string => lines[e.line - 1];
  const markLate = (e: RefEvent): void => void late.set(e.line, text(e));
  const persons = events.filter((e) => e.type === 'person');
  const auctions = events.filter((e) => e.type === 'auction');
  const bids = events.filter((e) => e.type === 'bid');
  const out: Record<string, string[]> = { q1: [], q2: [], q3: [], q5: [], q7: [], q8: [], 'winning-bids': [], 'seller-totals': [] };

  for (const b of bids) {
    out.q1.push(JSON.stringify({ auction: int(b, 'auction'), bidder: int(b, 'bidder'), price: euros(int(b, 'price')), dateTime: int(b, 'dateTime') }));
    if (int(b, 'auction') % 123 === 0) out.q2.push(JSON.stringify({ auction: int(b, 'auction'), price: int(b, 'price') }));
  }

  const personById = new Map(persons.map((p) => [int(p, 'id'), p]));
  for (const a of auctions) {
    const p = personById.get(int(a, 'seller'));
    if (int(a, 'category') === 10 && p && ['OR', 'ID', 'CA'].includes(str(p, 'state'))) {
      out.q3.push(JSON.stringify({ name: str(p, 'name'), city: str(p, 'city'), state: str(p, 'state'), auctionId: int(a, 'id') }));
    }
  }

  // q5: counts per hopping window and auction, over the bids not late for q5.
  const hop = new Map<number, Map<number, number>>();
  for (const b of bids) {
    const ts = int(b, 'dateTime');
    const first = start(ts, HOP) - (WINDOW - HOP);
    if (first + WINDOW <= b.w) {
      markLate(b);
      continue;
    }
    for (let s = first; s <= ts; s += HOP) {
      const counts = hop.get(s) ?? new Map<number, number>();
      counts.set(int(b, 'auction'), (counts.get(int(b, 'auction')) ?? 0) + 1);
      hop.set(s, counts);
    }
  }
  for (const [s, counts] of hop) {
    const max = Math.max(...counts.values());
    for (const [auction, n] of counts) if (n === max) out.q5.push(JSON.stringify({ windowStart: s, windowEnd: s + WINDOW, auction, bids: n }));
  }

  // q7: the bids at each tumbling window's highest price, over the bids not late for q7.
  const tumbling = new Map<number, RefEvent[]>();
  for (const b of bids) {
    const s = start(int(b, 'dateTime'), WINDOW);
    if (s + WINDOW <= b.w) {
      markLate(b);
      continue;
    }
    tumbling.set(s, [...(tumbling.get(s) ?? []), b]);
  }
  for (const [s, inWindow] of tumbling) {
    const max = Math.max(...inWindow.map((b) => int(b, 'price')));
    for (const b of inWindow) {
      if (int(b, 'price') !== max) continue;
      out.q7.push(JSON.stringify({ windowStart: s, windowEnd: s + WINDOW, auction: int(b, 'auction'), bidder: int(b, 'bidder'), price: max, dateTime: int(b, 'dateTime') }));
    }
  }

  // q8: persons and auctions not late for q8, in the same tumbling window.
  const onTime = (e: RefEvent): boolean => {
    const ok = start(int(e, 'dateTime'), WINDOW) + WINDOW > e.w;
    if (!ok) markLate(e);
    return ok;
  };
  const q8Persons = persons.filter(onTime);
  const q8Auctions = auctions.filter(onTime);
  for (const p of q8Persons) {
    const s = start(int(p, 'dateTime'), WINDOW);
    if (q8Auctions.some((a) => int(a, 'seller') === int(p, 'id') && start(int(a, 'dateTime'), WINDOW) === s)) {
      out.q8.push(JSON.stringify({ id: int(p, 'id'), name: str(p, 'name'), windowStart: s, windowEnd: s + WINDOW }));
    }
  }

  // winning-bids and seller-totals.
  const bidsByAuction = new Map<number, RefEvent[]>();
  for (const b of bids) bidsByAuction.set(int(b, 'auction'), [...(bidsByAuction.get(int(b, 'auction')) ?? []), b]);
  const totals = new Map<number, { auctions: number; revenue: number }>();
  for (const a of auctions) {
    const expires = int(a, 'expires');
    const auctionLate = a.w > expires;
    if (auctionLate) markLate(a);
    let best: RefEvent | undefined;
    for (const b of bidsByAuction.get(int(a, 'id')) ?? []) {
      const ts = int(b, 'dateTime');
      if (ts < int(a, 'dateTime') || ts > expires) continue;
      if (b.w > expires) {
        markLate(b);
        continue;
      }
      if (int(b, 'price') < int(a, 'reserve')) continue;
      const better =
        best === undefined ||
        int(b, 'price') > int(best, 'price') ||
        (int(b, 'price') === int(best, 'price') && (ts < int(best, 'dateTime') || (ts === int(best, 'dateTime') && int(b, 'bidder') < int(best, 'bidder'))));
      if (better) best = b;
    }
    if (auctionLate || !best) continue;
    const seller = int(a, 'seller');
    out['winning-bids'].push(
      JSON.stringify({ auction: int(a, 'id'), seller, category: int(a, 'category'), price: int(best, 'price'), bidder: int(best, 'bidder'), bidDateTime: int(best, 'dateTime') }),
    );
    const t = totals.get(seller) ?? { auctions: 0, revenue: 0 };
    totals.set(seller, { auctions: t.auctions + 1, revenue: t.revenue + int(best, 'price') });
  }
  for (const [seller, t] of totals) out['seller-totals'].push(JSON.stringify({ seller, auctions: t.auctions, revenue: t.revenue }));

  return { recordsIn: nonBlank - deadLetters.size, deadLetters, reasons, late, outputs: out };
}

const sorted = (rows: readonly string[]): string[] => [...rows].sort();

function readLines(file: string): string[] {
  const content = readFileSync(file, 'utf8');
  return content.length === 0 ? [] : content.replace(/\n$/, '').split('\n');
}

/** Asserts that the files in `outputDir` are exactly what {@link nexmarkReference} expects (`duplicates` as given, default 0). */
export function expectNexmarkFiles(outputDir: string, expected: NexmarkReference, duplicates: number | 'any' = 0): void {
  for (const [name, rows] of Object.entries(expected.outputs)) {
    expect(sorted(readLines(join(outputDir, `${name}.jsonl`))), name).toEqual(sorted(rows));
  }
  const letters = readLines(join(outputDir, 'dead-letter.jsonl')).map((l) => JSON.parse(l) as { line: string; lineNumber: number; reason: string });
  expect(letters.map((l) => l.lineNumber).sort((a, b) => a - b)).toEqual([...expected.deadLetters.keys()].sort((a, b) => a - b));
  for (const letter of letters) {
    expect(letter.line).toBe(expected.deadLetters.get(letter.lineNumber));
    expect(letter.reason.length).toBeGreaterThan(0);
    if (expected.reasons.get(letter.lineNumber) === 'duplicate id') expect(letter.reason).toBe('duplicate id');
    else expect(letter.reason).not.toBe('duplicate id');
  }
  expect(sorted(readLines(join(outputDir, 'late.jsonl')))).toEqual(sorted([...expected.late.values()]));
  const summary = JSON.parse(readFileSync(join(outputDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  expect({ ...summary, duplicates: duplicates === 'any' ? 'any' : summary.duplicates }).toEqual({
    recordsIn: expected.recordsIn,
    deadLetters: expected.deadLetters.size,
    late: expected.late.size,
    outputs: Object.fromEntries(Object.entries(expected.outputs).map(([name, rows]) => [name, rows.length])),
    duplicates,
  });
}
