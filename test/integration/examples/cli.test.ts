import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleCli } from '../../helpers/example-cli.js';

const root = mkdtempSync(join(tmpdir(), 'example-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = exampleCli;

describe('npm run example', () => {
  // Each app as a user first runs it: generate an input, run it embedded, read the files (examples.md's contract).
  // `recordsIn` counts every non-blank line (examples.md), for nexmark the valid ones (nexmark.md).
  for (const [app, outputs, counted] of [
    ['clickstream', ['page-views', 'sessions', 'top-pages'], 'lines'],
    ['fraud', ['fraud-alerts'], 'lines'],
    ['nexmark', ['q1', 'q2', 'q3', 'q5', 'q7', 'q8', 'winning-bids', 'seller-totals'], 'valid'],
  ] as const) {
    it(`generates an input file, runs ${app} on it embedded, writes every output file and the summary, and exits 0`, async () => {
      const input = join(root, `${app}.jsonl`);
      const generated = await cli([app, '--input', input, '--generate', '2000', '--seed', '3']);
      expect(generated.code, generated.stderr).toBe(0);
      const lines = readFileSync(input, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
      const outputDir = join(root, `${app}-out`);
      const ran = await cli([app, '--input', input, '--output-dir', outputDir, '--partitions', '2']);
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stderr).toMatch(/produced [\d,]+, processed [\d,]+ records/);
      const summary = JSON.parse(readFileSync(join(outputDir, 'summary.json'), 'utf8')) as { recordsIn: number; deadLetters: number; late: number; outputs: Record<string, number> };
      // Generated inputs stay within the bound (no late record) and mix in a few invalid lines, each a dead letter with its reason.
      expect(summary.late).toBe(0);
      expect(summary.deadLetters).toBeGreaterThan(0);
      expect(summary.recordsIn).toBe(counted === 'lines' ? lines : lines - summary.deadLetters);
      const letters = readFileSync(join(outputDir, 'dead-letter.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
      expect(letters).toHaveLength(summary.deadLetters);
      for (const letter of letters) {
        const { line, lineNumber, reason } = JSON.parse(letter) as Record<string, unknown>;
        expect([typeof line, typeof lineNumber, typeof reason]).toEqual(['string', 'number', 'string']);
      }
      expect(Object.keys(summary.outputs).sort()).toEqual([...outputs].sort());
      for (const output of outputs) {
        const written = readFileSync(join(outputDir, `${output}.jsonl`), 'utf8').split('\n').filter((l) => l !== '');
        expect(written.length, output).toBe(summary.outputs[output]);
        for (const line of written) expect(() => JSON.parse(line) as unknown).not.toThrow();
      }
      expect(readFileSync(join(outputDir, 'late.jsonl'), 'utf8')).toBe('');
    }, 90_000);
  }

  for (const [why, args, flag] of [
    ['an unknown flag', ['clickstream', '--input', 'x.jsonl', '--output-dir', 'o', '--partitons', '3'], '--partitons'],
    ['a partition count that is not a positive integer', ['clickstream', '--input', 'x.jsonl', '--output-dir', 'o', '--partitions', '0'], '--partitions'],
    ['a missing --output-dir', ['clickstream', '--input', 'x.jsonl'], '--output-dir'],
    ['--resume without --kafka', ['clickstream', '--input', 'x.jsonl', '--output-dir', 'o', '--resume'], '--resume'],
    ['a bad broker address', ['clickstream', '--input', 'x.jsonl', '--output-dir', 'o', '--kafka', 'localhost'], '--kafka'],
    ['an unknown app', ['weather', '--input', 'x.jsonl', '--output-dir', 'o'], 'weather'],
    ['--generate without --seed', ['clickstream', '--input', 'x.jsonl', '--generate', '10'], '--seed'],
  ] as const) {
    it(`exits 2 on ${why}, naming it`, async () => {
      const { code, stderr } = await cli(args);
      expect(code).toBe(2);
      expect(stderr).toContain(flag);
    }, 30_000);
  }
});
