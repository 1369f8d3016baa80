import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Runs a command to its end; resolves with its exit code and output. */
function run(args: readonly string[], timeoutMs = 50_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo', () => {
  it('runs to completion on the embedded log and prints plain progress lines and a summary when not on a terminal', async () => {
    const { code, stdout, stderr } = await run(['--import', 'tsx', 'examples/demo.ts', '--events', '5000']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/\[demo\] [\d,]+\/5,000 clicks processed/);
    expect(stdout).toMatch(/\[demo\] web console: http:\/\/127\.0\.0\.1:\d+\/ui\//);
    expect(stdout).toContain('summary');
    expect(stdout).toMatch(/clicks produced\s+5,000/);
    expect(stdout).not.toContain('\x1b['); // no escapes off a terminal
  }, 60_000);

  it('runs as npm run demo runs it: compiled JavaScript under plain node (scripts/demo.mjs), importing the built package', async () => {
    const { code, stdout, stderr } = await run(['scripts/demo.mjs', '--events', '5000'], 120_000);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/clicks produced\s+5,000/);
    expect(stdout).toContain('summary');
    // The demo ran from its compiled copy, which imports the package, not src/.
    const compiled = readFileSync('.tributary/examples/demo.js', 'utf8');
    expect(compiled).toMatch(/from 'tributary'/);
    expect(compiled).not.toMatch(/: string|interface /);
  }, 150_000);

  it('refuses a bad flag with exit code 2, naming it', async () => {
    const { code, stderr } = await run(['--import', 'tsx', 'examples/demo.ts', '--events', 'many']);
    expect(code).toBe(2);
    expect(stderr).toContain('--events');
  }, 30_000);
});
