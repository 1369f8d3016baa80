/**
 * An independent reference for the clickstream example, written from the spec
 * (/work/shared/specs/examples.md) as plain loops over the input lines. It shares no code with
 * the app: parsing, validation, the late rule, page-views, sessions and top-pages are all here.
 * The only library function it uses is Kafka's key → partition mapping (murmur2), which decides
 * which clicks share a partition and so a watermark.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { partitionForKey } from '../../../src/connectors/partitioner.js';

const MINUTE = 60_000;
const GAP = 1_800_000;
const BOUND = 5_000;
/** The command line's limit on an input record, key + value bytes. */
const MAX_RECORD_BYTES = 1_000_000;

export interface RefClick {
  readonly userId: string;
  readonly page: string;
  readonly ts: number;
}

export interface Reference {
  readonly recordsIn: number;
  /** Line number → line text. */
  readonly deadLetters: Map<number, string>;
  /** Line number → line text. */
  readonly late: Map<number, string>;
  /** Each as its exact JSON line. */
  readonly pageViews: string[];
  readonly sessions: string[];
  readonly topPages: string[];
}

function hasForbiddenKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  if (own(value, '__proto__')) return true;
  const ctor = (value as { constructor?: unknown }).constructor;
  if (own(value, 'constructor') && ctor !== null && typeof ctor === 'object' && own(ctor, 'prototype')) return true;
  return Object.values(value).some(hasForbiddenKey);
}

/** The spec's validity, plus the library's refusal of `__proto__` / `constructor.prototype` keys. */
export function parseClick(line: string): RefClick | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  if (hasForbiddenKey(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  if (typeof o.userId !== 'string' || typeof o.page !== 'string') return undefined;
  if (typeof o.ts !== 'number' || !Number.isSafeInteger(o.ts)) return undefined;
  if ('referrer' in o && typeof o.referrer !== 'string') return undefined;
  return { userId: o.userId, page: o.page, ts: o.ts };
}

function keyOf(line: string): string | null {
  try {
    const parsed = JSON.parse(line) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && typeof (parsed as { userId?: unknown }).userId === 'string') {
      return (parsed as { userId: string }).userId;
    }
  } catch {
    // no key
  }
  return null;
}

/** Sessions of sorted timestamps: consecutive ones at most GAP apart. */
function sessionize(sorted: readonly number[]): Array<{ start: number; last: number; from: number; to: number }> {
  const result: Array<{ start: number; last: number; from: number; to: number }> = [];
  for (let i = 0; i < sorted.length; i++) {
    const current = result[result.length - 1];
    if (current && sorted[i] - current.last <= GAP) {
      current.last = sorted[i];
      current.to = i;
    } else {
      result.push({ start: sorted[i], last: sorted[i], from: i, to: i });
    }
  }
  return result;
}

/**
 * The expected files for `lines` (the input file's lines) run with `partitions` partitions:
 * each partition's watermark is the largest event time of the valid clicks it has read so far,
 * minus 5,000 ms; a click is late when its minute has ended by the watermark from before it, or
 * when it lies within 30 minutes of a session of its user that has already fired (last click +
 * gap + 1 <= watermark). Late clicks are in no result.
 */
export function reference(lines: readonly string[], partitions: number): Reference {
  const deadLetters = new Map<number, string>();
  const late = new Map<number, string>();
  let recordsIn = 0;
  const maxSeen = new Array<number>(partitions).fill(-Infinity);
  const accepted: RefClick[] = [];
  const acceptedTsByUser = new Map<string, number[]>();

  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '') return;
    recordsIn++;
    const key = keyOf(line);
    if (Buffer.byteLength(line, 'utf8') + (key === null ? 0 : Buffer.byteLength(key, 'utf8')) > MAX_RECORD_BYTES) {
      deadLetters.set(lineNumber, line);
      return;
    }
    const click = parseClick(line);
    if (!click) {
      deadLetters.set(lineNumber, line);
      return;
    }
    const partition = partitionForKey(click.userId, partitions);
    const watermark = maxSeen[partition] - BOUND;
    maxSeen[partition] = Math.max(maxSeen[partition], click.ts);
    const minuteEnd = Math.floor(click.ts / MINUTE) * MINUTE + MINUTE;
    let isLate = minuteEnd <= watermark;
    if (!isLate) {
      const mine = [...(acceptedTsByUser.get(click.userId) ?? [])].sort((a, b) => a - b);
      isLate = sessionize(mine).some((s) => s.last + GAP + 1 <= watermark && s.start - GAP <= click.ts && click.ts <= s.last + GAP);
    }
    if (isLate) {
      late.set(lineNumber, line);
      return;
    }
    accepted.push(click);
    acceptedTsByUser.set(click.userId, [...(acceptedTsByUser.get(click.userId) ?? []), click.ts]);
  });

  // page-views
  const views = new Map<number, Map<string, number>>();
  for (const c of accepted) {
    const start = Math.floor(c.ts / MINUTE) * MINUTE;
    const pages = views.get(start) ?? new Map<string, number>();
    pages.set(c.page, (pages.get(c.page) ?? 0) + 1);
    views.set(start, pages);
  }
  const pageViews: string[] = [];
  const topPages: string[] = [];
  for (const [start, pages] of views) {
    for (const [page, n] of pages) pageViews.push(JSON.stringify({ page, windowStart: start, windowEnd: start + MINUTE, views: n }));
    const ranked = [...pages].sort(([pa, na], [pb, nb]) => nb - na || (pa < pb ? -1 : pa > pb ? 1 : 0)).slice(0, 3);
    topPages.push(JSON.stringify({ windowStart: start, windowEnd: start + MINUTE, top: ranked.map(([page, n]) => ({ page, views: n })) }));
  }

  // sessions
  const byUser = new Map<string, RefClick[]>();
  for (const c of accepted) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
  const sessions: string[] = [];
  for (const [userId, clicks] of byUser) {
    const sorted = [...clicks].sort((a, b) => a.ts - b.ts);
    for (const s of sessionize(sorted.map((c) => c.ts))) {
      const inSession = sorted.slice(s.from, s.to + 1);
      const events = inSession.length;
      sessions.push(
        JSON.stringify({ userId, sessionStart: s.start, sessionEnd: s.last, events, pages: new Set(inSession.map((c) => c.page)).size, bounce: events === 1 }),
      );
    }
  }
  return { recordsIn, deadLetters, late, pageViews, sessions, topPages };
}

const sorted = (lines: readonly string[]): string[] => [...lines].sort();

function readLines(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
}

/** Asserts that the files in `outputDir` are exactly what {@link reference} expects. */
export function expectFilesToMatch(outputDir: string, expected: Reference): void {
  expect(sorted(readLines(join(outputDir, 'page-views.jsonl')))).toEqual(sorted(expected.pageViews));
  expect(sorted(readLines(join(outputDir, 'sessions.jsonl')))).toEqual(sorted(expected.sessions));
  expect(sorted(readLines(join(outputDir, 'top-pages.jsonl')))).toEqual(sorted(expected.topPages));

  const letters = readLines(join(outputDir, 'dead-letter.jsonl')).map((l) => JSON.parse(l) as { line: string; lineNumber: number; reason: string });
  expect(letters.map((l) => l.lineNumber).sort((a, b) => a - b)).toEqual([...expected.deadLetters.keys()].sort((a, b) => a - b));
  for (const letter of letters) {
    expect(letter.line).toBe(expected.deadLetters.get(letter.lineNumber));
    expect(typeof letter.reason).toBe('string');
    expect(letter.reason.length).toBeGreaterThan(0);
  }
  expect(sorted(readLines(join(outputDir, 'late.jsonl')))).toEqual(sorted([...expected.late.values()]));

  const summary = JSON.parse(readFileSync(join(outputDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  expect(summary).toEqual({
    recordsIn: expected.recordsIn,
    deadLetters: expected.deadLetters.size,
    late: expected.late.size,
    outputs: { 'page-views': expected.pageViews.length, sessions: expected.sessions.length, 'top-pages': expected.topPages.length },
    duplicates: 0,
  });
}
