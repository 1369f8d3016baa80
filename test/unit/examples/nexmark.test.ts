import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleRunFolder, fileLines } from '../../helpers/example-runs.js';
import { createLogger } from '../../../src/observability/logger.js';
import { nexmark, nexmarkQueryProcessors, NEXMARK_OUTPUTS, type NexmarkOutput } from '../../../examples/nexmark/app.js';
import { generateNexmarkLines } from '../../../examples/nexmark/generate.js';
import type { ExampleApp } from '../../../examples/shared/example-app.js';
import { runExample } from '../../../examples/shared/run-example.js';
import type { Sink } from '../../../src/index.js';
import { expectNexmarkFiles, nexmarkReference } from './nexmark-reference.js';

const logger = createLogger({ level: 'silent' });
const runs = exampleRunFolder('nexmark-test-');
const writeInput = runs.files;

async function runAndCompare(lines: readonly string[], partitions: number, app: ExampleApp = nexmark): Promise<void> {
  const { input, outputDir } = writeInput(lines);
  await runExample({ app, input, outputDir, partitions, logger });
  expectNexmarkFiles(outputDir, nexmarkReference(fileLines(input), partitions));
}

const T = Date.UTC(2024, 0, 1);
const person = (id: number, dateTime: number, state = 'OR', name = `p${id}`) =>
  JSON.stringify({ type: 'person', id, name, emailAddress: `${name}@x`, creditCard: '1', city: 'Bend', state, dateTime });
const auction = (id: number, seller: number, dateTime: number, expires: number, o: { category?: number; reserve?: number } = {}) =>
  JSON.stringify({ type: 'auction', id, itemName: 'i', description: 'd', initialBid: 1, reserve: o.reserve ?? 0, dateTime, expires, seller, category: o.category ?? 10 });
const bid = (auctionId: number, bidder: number, price: number, dateTime: number) =>
  JSON.stringify({ type: 'bid', auction: auctionId, bidder, price, channel: 'c', url: 'u', dateTime });

/**
 * Events over a few ids and a few windows, so that joins match, ties happen and disorder crosses
 * the bound: the i-th event is at i × 500 ms less a delay (mostly 0, sometimes within the 5 s
 * bound, sometimes beyond), so windows, expiries and watermarks meet exactly.
 */
type At = (t: number) => string;
const anEvent: fc.Arbitrary<At> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ id: fc.integer({ min: 1, max: 6 }), state: fc.constantFrom('OR', 'CA', 'WA') }).map((p): At => (t) => person(p.id, T + t, p.state)) },
  {
    weight: 2,
    arbitrary: fc
      .record({ id: fc.integer({ min: 1, max: 8 }), seller: fc.integer({ min: 1, max: 7 }), span: fc.integer({ min: 1, max: 20 }).map((s) => s * 1_000), category: fc.constantFrom(10, 3), reserve: fc.constantFrom(0, 50) })
      .map((a): At => (t) => auction(a.id, a.seller, T + t, T + t + a.span, a)),
  },
  {
    weight: 6,
    arbitrary: fc
      .record({ auction: fc.constantFrom(1, 2, 3, 123, 246, 8, 9), bidder: fc.integer({ min: 1, max: 3 }), price: fc.constantFrom(10, 50, 50, 90, 90, -7) })
      .map((b): At => (t) => bid(b.auction, b.bidder, b.price, T + t)),
  },
  { weight: 1, arbitrary: fc.constantFrom<At>(() => '{"type":"bid"}', () => 'not json', () => '', () => '{"type":"person","id":1.5}', (t) => bid(1, 1, 1, T + t).replace('"dateTime"', '"extra":null,"dateTime"')) },
);
const eventLines = fc
  .array(fc.tuple(anEvent, fc.constantFrom(0, 0, 0, 0, 1_000, 2_500, 5_000, 5_500, 12_000)), { minLength: 30, maxLength: 150, size: 'max' })
  .map((events) => events.map(([at, delay], i) => at(i * 500 - delay)));


describe('nexmark on the embedded log', () => {
  // What `npm run bench -- nexmark` runs: one query (or a few) alone, only the stages they need.
  for (const queries of [['q3'], ['q7'], ['q5', 'q8'], ['seller-totals']] as const) {
    it(`computes ${queries.join(' and ')} alone exactly as the whole app does, and no other output`, async () => {
      const lines = [...generateNexmarkLines({ events: 3_000, seed: 17 })];
      const { input, outputDir } = writeInput(lines);
      const alone: ExampleApp = { ...nexmark, processors: (options) => nexmarkQueryProcessors(options, queries) };
      await runExample({ app: alone, input, outputDir, partitions: 3, logger });
      const expected = nexmarkReference(fileLines(input), 3);
      const read = (name: string): string[] => readFileSync(join(outputDir, `${name}.jsonl`), 'utf8').split('\n').filter((l) => l !== '').sort();
      for (const output of NEXMARK_OUTPUTS) {
        const wanted = (queries as readonly NexmarkOutput[]).includes(output);
        expect(read(output), output).toEqual(wanted ? [...expected.outputs[output]].sort() : []);
      }
      expect(expected.outputs[queries[0]].length).toBeGreaterThan(0);
    });
  }

  for (const partitions of [1, 4]) {
    it(`gives the reference's eight outputs and dead letters on generated input with malformed lines and duplicate ids (${partitions} partition${partitions > 1 ? 's' : ''})`, async () => {
      const lines = [...generateNexmarkLines({ events: 4_000, seed: 11 })];
      const expected = nexmarkReference(lines, partitions);
      // Every kind of trouble, and no late records (disorder within 5 s).
      expect([...expected.reasons.values()].filter((r) => r === 'duplicate id').length).toBeGreaterThan(0);
      expect(expected.deadLetters.size).toBeGreaterThan(30);
      expect(expected.late.size).toBe(0);
      expect(lines.some((l) => l.length > 1_000_000)).toBe(true);
      for (const rows of Object.values(expected.outputs)) expect(rows.length).toBeGreaterThan(0);
      await runAndCompare(lines, partitions);
    }, 60_000);
  }

  for (const partitions of [1, 3]) {
    it(`sends records late for q5, q7, q8 or winning-bids to late.jsonl once, and leaves them out of those outputs only (${partitions} partition${partitions > 1 ? 's' : ''})`, async () => {
      const lines = [...generateNexmarkLines({ events: 4_000, seed: 5, lateShare: 0.03 })];
      const expected = nexmarkReference(lines, partitions);
      expect(expected.late.size).toBeGreaterThan(20);
      await runAndCompare(lines, partitions);
    }, 60_000);
  }

  it('matches the reference for any generated input: seed, size, late share, duplicates and partition count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 800 }),
        fc.constantFrom(0, 0.05, 0.2),
        fc.constantFrom(0, 0.1),
        fc.integer({ min: 1, max: 4 }),
        async (seed, events, lateShare, duplicateShare, partitions) => {
          const lines = [...generateNexmarkLines({ events, seed, lateShare, duplicateShare, malformedShare: 0.05, oversized: false, stepMs: 20 })];
          await runAndCompare(lines, partitions);
        },
      ),
      { numRuns: 8 },
    );
  }, 180_000);

  it('matches the reference on dense random events: few ids, bids before their auction, disorder within and beyond the bound', async () => {
    await fc.assert(
      fc.asyncProperty(eventLines, fc.integer({ min: 1, max: 3 }), async (lines, partitions) => {
        await runAndCompare(lines, partitions);
      }),
      { numRuns: 30 },
    );
  }, 180_000);

  it('gives the reference results when partition actors of every stage fail mid-run and replay', async () => {
    const failing = (sink: Sink<unknown>, failAt: readonly number[]): Sink<unknown> => {
      let writes = 0;
      return { ...sink, name: sink.name, write: (items) => (failAt.includes(++writes) ? Promise.reject(new Error(`injected failure at write ${writes}`)) : sink.write(items)) };
    };
    const flaky: ExampleApp = {
      ...nexmark,
      processors: (options) =>
        nexmark.processors({
          ...options,
          sinks: {
            ...options.sinks,
            q1: failing(options.sinks.q1, [2, 7]),
            q5: failing(options.sinks.q5, [3]),
            q8: failing(options.sinks.q8, [2]),
            'winning-bids': failing(options.sinks['winning-bids'], [3, 9]),
            'seller-totals': failing(options.sinks['seller-totals'], [4]),
          },
        }),
    };
    const lines = [...generateNexmarkLines({ events: 5_000, seed: 99, lateShare: 0.02, oversized: false })];
    const { input, outputDir } = writeInput(lines);
    let failures = 0;
    await runExample({ app: flaky, input, outputDir, partitions: 3, logger, onStarted: (app) => app.lifecycle.subscribe((e) => void (e.type === 'partition.failed' && failures++)) });
    expect(failures).toBeGreaterThanOrEqual(5);
    // Re-emissions after a replay are written once (counted as duplicates); everything else is exactly the reference.
    expectNexmarkFiles(outputDir, nexmarkReference(fileLines(input), 3), 'any');
  }, 60_000);

  it('handles the edges: a bid at exactly expires, ties, floor of negative prices, identical q2 rows, 1.0 as an integer, duplicate ids', async () => {
    const lines = [
      person(1, T, 'OR', 'Ann'),
      auction(7, 1, T + 1_000, T + 5_000, { category: 10, reserve: 10 }),
      bid(7, 2, 50, T + 5_000), // exactly at expires: counts
      bid(7, 4, 50, T + 4_000), // same price, earlier
      bid(7, 1, 50, T + 4_000), // same price, same time, lower bidder: wins
      bid(7, 3, 90, T + 5_001), // after expires: not this auction's
      bid(246, 1, 20, T + 2_000),
      bid(246, 2, 20, T + 2_000).replace('"bidder":2', '"bidder":1'), // the same q2 row as the line before: two rows
      bid(9, 1, -1, T + 3_000), // q1: floor(-0.908) = -1
      auction(7, 1, T + 1_500, T + 9_000), // duplicate id
      person(1, T + 10, 'CA'), // duplicate id
      '{"type":"bid","auction":8,"bidder":1.0,"price":10,"channel":"c","url":"u","dateTime":' + String(T + 3_500) + '}',
      person(20, T + 15_000, 'WA'), // the persons' watermark is now T + 10,000
      person(21, T + 9_999, 'WA'), // its window [T, T + 10,000) has ended (end <= W): late for q8
      person(22, T + 10_000, 'WA'), // the next window: on time
      bid(8, 1, 5, T + 60_000), // moves the watermark past everything
    ];
    const { input, outputDir } = writeInput(lines);
    await runExample({ app: nexmark, input, outputDir, partitions: 1, logger });
    expectNexmarkFiles(outputDir, nexmarkReference(fileLines(input), 1));
    const read = (name: string): string => readFileSync(join(outputDir, `${name}.jsonl`), 'utf8');
    expect(read('winning-bids')).toBe(`${JSON.stringify({ auction: 7, seller: 1, category: 10, price: 50, bidder: 1, bidDateTime: T + 4_000 })}\n`);
    expect(read('seller-totals')).toBe(`${JSON.stringify({ seller: 1, auctions: 1, revenue: 50 })}\n`);
    expect(read('q2')).toBe(`${JSON.stringify({ auction: 246, price: 20 })}\n`.repeat(2));
    expect(read('q1')).toContain(JSON.stringify({ auction: 9, bidder: 1, price: -1, dateTime: T + 3_000 }));
    expect(read('q3')).toBe(`${JSON.stringify({ name: 'Ann', city: 'Bend', state: 'OR', auctionId: 7 })}\n`);
    expect(read('q8')).toBe(`${JSON.stringify({ id: 1, name: 'Ann', windowStart: T, windowEnd: T + 10_000 })}\n`);
    const letters = readFileSync(join(outputDir, 'dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { lineNumber: number; reason: string });
    expect(readFileSync(join(outputDir, 'late.jsonl'), 'utf8')).toBe(`${person(21, T + 9_999, 'WA')}\n`);
    expect(letters).toEqual([
      { line: lines[9], lineNumber: 10, reason: 'duplicate id' },
      { line: lines[10], lineNumber: 11, reason: 'duplicate id' },
    ]);
  }, 30_000);
});
