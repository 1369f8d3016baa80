import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fraud } from '../../../examples/fraud/app.js';
import { generateTransactions } from '../../../examples/fraud/generate.js';
import { runExample } from '../../../examples/shared/run-example.js';
import { createLogger } from '../../../src/observability/logger.js';
import { kafkaBrokers } from '../../helpers/env.js';
import { exampleCli, writeInputFile } from '../../helpers/example-cli.js';
import { uniqueName } from '../../helpers/names.js';

const logger = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'fraud-kafka-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every output file of a run (`*.jsonl`), its lines sorted, and the summary without its duplicates count. */
function outputs(dir: string): Record<string, unknown> {
  const files: Record<string, unknown> = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    files[name] = readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l !== '').sort();
  }
  const { duplicates: _, ...summary } = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  return { files, summary };
}

describe('fraud on Kafka', () => {
  it('with --exactly-once, after a SIGKILL mid-run, --resume writes what an uninterrupted embedded run writes, with no duplicate at all', async () => {
    const input = writeInputFile(root, 'resume-eos', generateTransactions({ records: 40_000, seed: 43, lateShare: 0.01 }));
    // The reference: the same input, the same partition count, on the embedded log, uninterrupted
    // (lateness is decided per partition, so both see the same late records: issue 21).
    const embeddedDir = join(root, 'embedded-out');
    await runExample({ app: fraud, input, outputDir: embeddedDir, partitions: 4, logger });
    const expected = outputs(embeddedDir);
    expect((expected.files as Record<string, string[]>)['fraud-alerts.jsonl']?.length ?? 0).toBeGreaterThan(0);

    const outputDir = join(root, 'resume-eos-out');
    const args = ['fraud', '--input', input, '--output-dir', outputDir, '--partitions', '4', '--kafka', kafkaBrokers().join(','), '--topic-prefix', `${uniqueName('fraud-eos')}-`, '--exactly-once'];
    // Killed with results written in open transactions (records processed, the run not done).
    const killed = await exampleCli(args, (chunk, child) => {
      if (/finishing: produced [\d,]+, processed [1-9]/.test(chunk)) child.kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(outputDir, 'summary.json'))).toBe(false);

    const resumed = await exampleCli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(outputDir, 'summary.json'), 'utf8')) as { duplicates: number }).duplicates).toBe(0);
    expect(outputs(outputDir)).toEqual(expected);
  }, 150_000);
});
