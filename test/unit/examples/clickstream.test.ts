import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleRunFolder, fileLines } from '../../helpers/example-runs.js';
import { createLogger } from '../../../src/observability/logger.js';
import { clickstream } from '../../../examples/clickstream/app.js';
import { generateClickLines } from '../../../examples/clickstream/generate.js';
import type { ExampleApp } from '../../../examples/shared/example-app.js';
import { runExample } from '../../../examples/shared/run-example.js';
import type { Sink } from '../../../src/index.js';
import { expectFilesToMatch, parseClick, reference } from './clickstream-reference.js';

const logger = createLogger({ level: 'silent' });
const runs = exampleRunFolder('clickstream-test-');
const writeInput = runs.files;

async function runAndCompare(lines: readonly string[], partitions: number): Promise<void> {
  const { input, outputDir } = writeInput(lines);
  await runExample({ app: clickstream, input, outputDir, partitions, logger });
  expectFilesToMatch(outputDir, reference(fileLines(input), partitions));
}

describe('clickstream on the embedded log', () => {
  for (const partitions of [1, 4]) {
    it(`gives the reference's page-views, sessions, top-pages and dead letters on generated input with malformed lines (${partitions} partition${partitions > 1 ? 's' : ''})`, async () => {
      const lines = [...generateClickLines({ events: 3_000, seed: 11 })];
      const expected = reference(lines, partitions);
      // The generated file has every kind of trouble, and no late clicks (disorder within 5 s).
      expect(expected.deadLetters.size).toBeGreaterThan(15);
      expect(expected.late.size).toBe(0);
      expect(lines.some((l) => l.length > 1_000_000)).toBe(true);
      expect(lines.some((l) => l.trim() === '' )).toBe(true);
      await runAndCompare(lines, partitions);
    }, 30_000);
  }

  for (const partitions of [1, 4]) {
    it(`sends clicks whose minute or session already fired to late.jsonl, once, and leaves them out of every output (${partitions} partition${partitions > 1 ? 's' : ''})`, async () => {
      const lines = [...generateClickLines({ events: 3_000, seed: 5, lateShare: 0.03 })];
      const expected = reference(lines, partitions);
      expect(expected.late.size).toBeGreaterThan(20);
      await runAndCompare(lines, partitions);
    }, 30_000);
  }

  it('matches the reference for any seed, size, share of late clicks and partition count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 600 }),
        fc.constantFrom(0, 0.05, 0.2),
        fc.integer({ min: 1, max: 5 }),
        async (seed, events, lateShare, partitions) => {
          const lines = [...generateClickLines({ events, seed, lateShare, malformedShare: 0.05, users: Math.max(3, Math.ceil(events / 30)) })];
          await runAndCompare(lines, partitions);
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it('gives the reference results when partition actors of every stage fail mid-run and replay', async () => {
    // Each output's sink fails a few of its writes: the partition actor that wrote fails, its
    // supervisor restarts it, and it replays from its last commit.
    const failing = (sink: Sink<unknown>, failAt: readonly number[]): Sink<unknown> => {
      let writes = 0;
      return {
        ...sink,
        name: sink.name,
        write: (items) => (failAt.includes(++writes) ? Promise.reject(new Error(`injected failure at write ${writes}`)) : sink.write(items)),
      };
    };
    const flaky: ExampleApp = {
      ...clickstream,
      processors: (options) =>
        clickstream.processors({
          ...options,
          sinks: {
            ...options.sinks,
            sessions: failing(options.sinks.sessions, [2, 9]),
            'page-views': failing(options.sinks['page-views'], [3, 11]),
            'top-pages': failing(options.sinks['top-pages'], [2, 5]),
          },
        }),
    };
    const lines = [...generateClickLines({ events: 4_000, seed: 99, lateShare: 0.02 })];
    const { input, outputDir } = writeInput(lines);
    let failures = 0;
    const { summary } = await runExample({
      app: flaky,
      input,
      outputDir,
      partitions: 3,
      logger,
      onStarted: (app) => app.lifecycle.subscribe((e) => void (e.type === 'partition.failed' && failures++)),
    });
    expect(failures).toBeGreaterThanOrEqual(6);
    // Re-emissions after a replay are written once; everything else is exactly the reference.
    writeFileSync(join(outputDir, 'summary.json'), JSON.stringify({ ...summary, duplicates: 0 }));
    expectFilesToMatch(outputDir, reference(fileLines(input), 3));
  }, 60_000);

  it('sends a click that would join a session that already fired to late.jsonl, and leaves it out of page-views too', async () => {
    const t0 = Date.UTC(2024, 0, 1);
    const lines = [
      `{"userId":"u","page":"/first","ts":${t0}}`,
      `{"userId":"v","page":"/p","ts":${t0 + 1_805_001}}`, // watermark t0 + 1,800,001: u's session fires
      `{"userId":"u","page":"/second","ts":${t0 + 1_800_000}}`, // within the gap of u's fired session; its minute is open
      `{"userId":"w","page":"/p","ts":${t0 + 1_800_500}}`,
    ];
    const { input, outputDir } = writeInput(lines);
    await runExample({ app: clickstream, input, outputDir, partitions: 1, logger });
    expectFilesToMatch(outputDir, reference(fileLines(input), 1));
    expect(readFileSync(join(outputDir, 'late.jsonl'), 'utf8')).toBe(`${lines[2]}\n`);
    expect(readFileSync(join(outputDir, 'page-views.jsonl'), 'utf8')).not.toContain('/second');
    expect(readFileSync(join(outputDir, 'sessions.jsonl'), 'utf8')).toContain(
      `{"userId":"u","sessionStart":${t0},"sessionEnd":${t0},"events":1,"pages":1,"bounce":true}`,
    );
  }, 30_000);

  it('handles the edges: session gap of exactly 30 minutes, ties, code-unit order, blank and CRLF lines', async () => {
    const t0 = Date.UTC(2024, 0, 1);
    const click = (userId: string, page: string, ts: number, extra = ''): string => `{"userId":"${userId}","page":"${page}","ts":${ts}${extra}}`;
    const lines = [
      click('a', '/b', t0),
      `${click('e', '/x', t0 + 1)}\r`, // a CRLF line
      click('e', '/y', t0 + 2, ',"referrer":null'), // invalid: a present optional field is a string
      '',
      click('b', '/B', t0 + 10),
      click('b', '/é', t0 + 20),
      click('c', '/Z', t0 + 30),
      '   ',
      click('c', '/b', t0 + 40, ',"referrer":"https://x.example/"'),
      '{"userId":"e","page":"/y","ts":1.7040672e12}', // an integer in exponent form: valid
      click('d', '/a', t0 + 59_999),
      click('d', '/a', t0 + 60_000), // the next minute
      click('a', '/a', t0 + 1_800_000), // exactly the gap after a's first click: same session
      click('f', '/late', t0 - 120_000), // far beyond the bound: its minute has ended
      click('a', '/a', t0 + 3_600_001), // gap + 1: a new session
    ];
    const { input, outputDir } = writeInput(lines);
    await runExample({ app: clickstream, input, outputDir, partitions: 1, logger });
    const expected = reference(fileLines(input), 1);
    expectFilesToMatch(outputDir, expected);
    // Spot checks against the spec, independently of the reference.
    const sessions = readFileSync(join(outputDir, 'sessions.jsonl'), 'utf8');
    expect(sessions).toContain(`{"userId":"a","sessionStart":${t0},"sessionEnd":${t0 + 1_800_000},"events":2,"pages":2,"bounce":false}`);
    expect(sessions).toContain(`{"userId":"a","sessionStart":${t0 + 3_600_001},"sessionEnd":${t0 + 3_600_001},"events":1,"pages":1,"bounce":true}`);
    const top = readFileSync(join(outputDir, 'top-pages.jsonl'), 'utf8');
    expect(top).toContain(`{"windowStart":${t0},"windowEnd":${t0 + 60_000},"top":[{"page":"/b","views":2},{"page":"/B","views":1},{"page":"/Z","views":1}]}`);
    expect(readFileSync(join(outputDir, 'late.jsonl'), 'utf8')).toBe(`${click('f', '/late', t0 - 120_000)}\n`);
    expect(parseClick('{"userId":"e","page":"/y","ts":1.7040672e12}')).toBeDefined();
    const summary = JSON.parse(readFileSync(join(outputDir, 'summary.json'), 'utf8')) as { recordsIn: number; deadLetters: number; late: number };
    expect(summary).toMatchObject({ recordsIn: 13, deadLetters: 1, late: 1 });
  }, 30_000);
});
