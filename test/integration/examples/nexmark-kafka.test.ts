import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { nexmark } from '../../../examples/nexmark/app.js';
import { generateNexmarkLines } from '../../../examples/nexmark/generate.js';
import { runExample } from '../../../examples/shared/run-example.js';
import { kafkaBrokers } from '../../helpers/env.js';
import { exampleCli, writeInputFile } from '../../helpers/example-cli.js';
import { uniqueName } from '../../helpers/names.js';
import { expectNexmarkFiles, nexmarkReference } from '../../unit/examples/nexmark-reference.js';

const logger = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'nexmark-kafka-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const writeInput = (name: string, lines: readonly string[]): string => writeInputFile(root, name, lines);
const cli = exampleCli;

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);

describe('nexmark on Kafka', () => {
  it('gives the reference results on three input topics of 3 partitions, with duplicate ids, malformed lines and late records', async () => {
    const input = writeInput('kafka', [...generateNexmarkLines({ events: 3_000, seed: 23, lateShare: 0.02, duplicateShare: 0.03, oversized: false })]);
    const outputDir = join(root, 'kafka-out');
    await runExample({ app: nexmark, input, outputDir, partitions: 3, kafkaBrokers: kafkaBrokers(), topicPrefix: `${uniqueName('nexmark')}-`, logger });
    const expected = nexmarkReference(readFileSync(input, 'utf8').replace(/\n$/, '').split('\n'), 3);
    expect(expected.late.size).toBeGreaterThan(0);
    expect([...expected.reasons.values()]).toContain('duplicate id');
    expectNexmarkFiles(outputDir, expected);
  }, 60_000);

  it('after a SIGKILL mid-run, --resume finishes with the reference results, and seller-totals holds one right line per seller', async () => {
    const generated = [...generateNexmarkLines({ events: 12_000, seed: 31, lateShare: 0.01, oversized: false })];
    const input = writeInput('resume', generated);
    const outputDir = join(root, 'resume-out');
    const prefix = `${uniqueName('nexmark-resume')}-`;
    const args = ['nexmark', '--input', input, '--output-dir', outputDir, '--partitions', '3', '--kafka', kafkaBrokers().join(','), '--topic-prefix', prefix];

    // Killed once the source stage has taken in the whole input, at its second progress line
    // saying so: by then some of the results are written and committed, others still on their
    // way (the outputs trail the source stage by seconds on Kafka), so --resume has both to do.
    let complete = 0;
    const killed = await cli(args, (chunk, child) => {
      const progress = /finishing: produced ([\d,]+), processed ([\d,]+)/.exec(chunk);
      if (progress && progress[1] === progress[2] && ++complete === 2) child.kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(complete).toBe(2);
    expect(existsSync(join(outputDir, 'summary.json'))).toBe(false);

    const resumed = await cli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/done: produced 0, processed/); // the input was not produced again
    const expected = nexmarkReference(generated, 3);
    // At-least-once: re-emissions are identical and counted in duplicates; everything else is exact.
    expectNexmarkFiles(outputDir, expected, 'any');
    // The table: exactly one line per seller, with its final value, whatever was emitted twice.
    const totals = lines(join(outputDir, 'seller-totals.jsonl')).map((l) => JSON.parse(l) as { seller: number });
    expect(new Set(totals.map((t) => t.seller)).size).toBe(totals.length);
    expect(totals.length).toBe(expected.outputs['seller-totals'].length);
    expect(totals.length).toBeGreaterThan(50);
  }, 120_000);

  it('with --exactly-once, after a SIGKILL mid-run, --resume finishes with exactly the reference results and no duplicate at all', async () => {
    const generated = [...generateNexmarkLines({ events: 12_000, seed: 41, lateShare: 0.01, oversized: false })];
    const input = writeInput('resume-eos', generated);
    const outputDir = join(root, 'resume-eos-out');
    const prefix = `${uniqueName('nexmark-eos')}-`;
    const args = ['nexmark', '--input', input, '--output-dir', outputDir, '--partitions', '3', '--kafka', kafkaBrokers().join(','), '--topic-prefix', prefix, '--exactly-once'];

    // Killed with results written in open transactions (records processed, the run not done).
    const killed = await cli(args, (chunk, child) => {
      if (/finishing: produced [\d,]+, processed [1-9]/.test(chunk)) child.kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(outputDir, 'summary.json'))).toBe(false);

    const resumed = await cli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    // Every output exact, the summary's duplicates 0: nothing the killed run wrote in a transaction it did not commit is read.
    expectNexmarkFiles(outputDir, nexmarkReference(generated, 3), 0);
  }, 150_000);
});
