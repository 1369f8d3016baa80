#!/usr/bin/env node
/**
 * `npm test`: runs every vitest project (unit, contract, integration), streams vitest's own
 * output, then prints one plain closing line with the counts, read from vitest's JSON report:
 *
 *   tests: 41 passed, 0 failed, 2 skipped
 *
 * and exits with vitest's exit code. Extra arguments go to vitest (`npm test -- --project unit`).
 * A test file that fails to load counts as one failed test, so the line agrees with the exit code.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reportFile = join(root, '.tributary', 'vitest-report.json');
mkdirSync(dirname(reportFile), { recursive: true });
rmSync(reportFile, { force: true });

const vitestArgs = [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${reportFile}`,
  ...process.argv.slice(2),
];
const localVitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const [command, args] = existsSync(localVitest)
  ? [process.execPath, [localVitest, ...vitestArgs]]
  : ['npx', ['vitest', ...vitestArgs]];

const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches vitest through the terminal already: wait for it to finish. A SIGTERM or
// SIGHUP sent to us alone is passed on.
process.on('SIGINT', () => undefined);
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}

const exitCode = await new Promise((resolvePromise) => {
  child.once('error', (err) => {
    console.error(`npm test: could not start vitest: ${err.message}`);
    resolvePromise(1);
  });
  child.once('exit', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
});

const counts = readCounts(reportFile);
if (counts) {
  const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
  if (exitCode !== 0 && counts.failed === 0) {
    console.log(`npm test: vitest exited with code ${exitCode} (an error outside the tests: see above)`);
  }
  console.log(`tests: ${counts.passed} passed, ${counts.failed} failed${skipped}`);
} else {
  console.log(`npm test: no vitest JSON report at ${reportFile}; vitest exited with code ${exitCode}`);
}
process.exit(exitCode);

/**
 * @param {string} file
 * @returns {{ passed: number, failed: number, skipped: number } | undefined}
 */
function readCounts(file) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  // A file that failed to load (syntax error, failing beforeAll) has no failed assertion.
  const brokenFiles = (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  return {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + brokenFiles,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
}
