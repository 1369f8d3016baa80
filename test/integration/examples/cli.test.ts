import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'example-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/cli.ts', ...args], {
      cwd: process.cwd(),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'silent' },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('npm run example', () => {
  it('generates an input file, runs clickstream on it embedded, writes the files and exits 0', async () => {
    const input = join(root, 'clicks.jsonl');
    const generated = await cli(['clickstream', '--input', input, '--generate', '2000', '--seed', '3']);
    expect(generated.code, generated.stderr).toBe(0);
    const outputDir = join(root, 'out');
    const ran = await cli(['clickstream', '--input', input, '--output-dir', outputDir, '--partitions', '2']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(/produced [\d,]+, processed [\d,]+ records/);
    const summary = JSON.parse(readFileSync(join(outputDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ recordsIn: 2000, late: 0, duplicates: 0 });
    for (const file of ['page-views.jsonl', 'sessions.jsonl', 'top-pages.jsonl', 'late.jsonl', 'dead-letter.jsonl']) {
      expect(() => readFileSync(join(outputDir, file), 'utf8')).not.toThrow();
    }
  }, 60_000);

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
