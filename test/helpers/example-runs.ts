import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** Where one example run reads its input and writes its output files. */
export interface ExampleRunFiles {
  readonly input: string;
  readonly outputDir: string;
}

/**
 * A temporary folder for a test file's example runs, removed after its tests: `files(lines)`
 * writes an input file (one line each) and names a fresh output directory beside it.
 * Call it at the top level of a test file (it registers an `afterAll`).
 *
 * @example
 * const runs = exampleRunFolder('clickstream-test-');
 * const { input, outputDir } = runs.files(lines);
 */
export function exampleRunFolder(prefix: string): { readonly files: (lines: readonly string[]) => ExampleRunFiles } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let runs = 0;
  return {
    files: (lines) => {
      const dir = join(root, `run-${runs++}`);
      const input = `${dir}.jsonl`;
      writeFileSync(input, lines.map((l) => `${l}\n`).join(''));
      return { input, outputDir: dir };
    },
  };
}

/** The input file's lines as the command line reads them (the generators write one a line). */
export function fileLines(input: string): string[] {
  return readFileSync(input, 'utf8').replace(/\n$/, '').split(/\r?\n/);
}
