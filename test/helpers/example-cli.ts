import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** How a run of the example command line ended. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs `npm run example -- ...args` as a child process (`node --import tsx examples/cli.ts`, so
 * a test can kill it) with logs silenced; resolves with its exit code, signal and stderr.
 * `onStderr` sees each chunk as it comes, with the child (to SIGKILL it mid-run).
 *
 * @example
 * const { code, stderr } = await exampleCli(['clickstream', '--input', input, '--output-dir', out]);
 */
export function exampleCli(args: readonly string[], onStderr?: (chunk: string, child: ChildProcess) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/cli.ts', ...args], {
      cwd: process.cwd(),
      // Progress lines every 100 ms: a test that kills the run on one lands mid-run even when the run is fast.
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'silent', TRIBUTARY_EXAMPLE_PROGRESS_MS: '100' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      onStderr?.(chunk, child);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Writes `lines` as `<dir>/<name>.jsonl`, one a line; returns its path. */
export function writeInputFile(dir: string, name: string, lines: readonly string[]): string {
  const input = join(dir, `${name}.jsonl`);
  writeFileSync(input, lines.map((l) => `${l}\n`).join(''));
  return input;
}
