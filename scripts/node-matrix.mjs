#!/usr/bin/env node
/**
 * `npm run test:node-matrix`: the unit and contract suites and the demo on each supported Node
 * major (22 and 24), with Node binaries from the npm registry, cached in
 * ~/.cache/tributary/node/<version>/ (later runs reuse them).
 *
 * The binary comes from the registry's `node-<platform>-<arch>` package: what the `node`
 * package's own preinstall script (`npm i node@24`) installs, fetched directly, since npm 11
 * does not run a dependency's install scripts unless allowed. Nothing is downloaded from
 * elsewhere.
 *
 * It runs with the node_modules that `npm ci` installed (no native addons: the same tree serves
 * every Node version), fails on any failed test, a demo that does not finish, or a
 * `TimeoutNegativeWarning` in any output (kafkajs' warning on Node 24, patched in patches/),
 * and ends with one plain line: `node-matrix: N passed, N failed`.
 *
 * Options: `--versions 22.23.5,24.22.3` (default below, or TRIBUTARY_NODE_VERSIONS),
 * `--demo-events N` (50,000), `--install-only`, `--skip-contract` (no broker needed then),
 * `--print-bin VERSION` (the directory of that version's `node`, installed if missing).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One release of each supported major, the newest of each when this was written. */
const DEFAULT_VERSIONS = ['22.23.5', '24.22.3'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const versions = (option('--versions') ?? process.env.TRIBUTARY_NODE_VERSIONS ?? DEFAULT_VERSIONS.join(','))
  .split(',')
  .map((v) => v.trim())
  .filter(Boolean);
const cacheRoot = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tributary', 'node');

/** Installs (once) and returns the path of the `node` binary of `version`. */
function installNode(version) {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`node-matrix: '${version}' is not an exact version (like 24.22.3)`);
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(cacheRoot, version);
  const binary = join(dir, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  console.error(`node-matrix: installing ${pkg}@${version} from the npm registry into ${dir}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${version}`], {
    stdio: ['ignore', 2, 2], // stdout stays clean for --print-bin
  });
  if (result.status !== 0 || !existsSync(binary)) throw new Error(`node-matrix: could not install ${pkg}@${version} (npm exited ${result.status})`);
  return binary;
}

/** Runs `node ...args` with that Node first on PATH (so children and `#!/usr/bin/env node` use it too). */
function runWith(binary, label, nodeArgs, timeoutMs) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const env = { ...process.env, PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ''}` };
    delete env.NODE_OPTIONS;
    const child = spawn(binary, nodeArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let negativeTimeouts = 0;
    const watch = (stream, out) => {
      let tail = '';
      stream.on('data', (chunk) => {
        out.write(chunk);
        const text = tail + chunk.toString('utf8');
        negativeTimeouts += text.split('TimeoutNegativeWarning').length - 1;
        tail = text.slice(-40);
        if (tail.includes('TimeoutNegativeWarning')) tail = '';
      });
    };
    watch(child.stdout, process.stdout);
    watch(child.stderr, process.stderr);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      const failures = [];
      if (code !== 0) failures.push(signal ? `killed by ${signal}` : `exit code ${code}`);
      if (negativeTimeouts > 0) failures.push(`${negativeTimeouts} TimeoutNegativeWarning(s)`);
      console.log(`node-matrix: ${label}: ${failures.length === 0 ? 'ok' : failures.join(', ')} (${seconds} s)`);
      resolvePromise(failures.length === 0);
    });
  });
}

if (option('--print-bin')) {
  console.log(dirname(installNode(option('--print-bin'))));
  process.exit(0);
}
const binaries = versions.map((version) => [version, installNode(version)]);
for (const [version, binary] of binaries) {
  const reported = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (reported !== `v${version}`) throw new Error(`node-matrix: ${binary} reports ${reported}, expected v${version}`);
}
if (flag('--install-only')) process.exit(0);

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const demoEvents = option('--demo-events') ?? '50000';
const projects = flag('--skip-contract') ? ['--project', 'unit'] : ['--project', 'unit', '--project', 'contract'];
let passed = 0;
let failed = 0;
for (const [version, binary] of binaries) {
  const steps = [
    [`Node ${version} unit${flag('--skip-contract') ? '' : ' + contract'}`, [vitest, 'run', ...projects], 20 * 60_000],
    [`Node ${version} demo (${demoEvents} clicks)`, ['scripts/demo.mjs', '--events', demoEvents], 5 * 60_000],
  ];
  for (const [label, nodeArgs, timeoutMs] of steps) {
    console.log(`node-matrix: ${label}`);
    if (await runWith(binary, label, nodeArgs, timeoutMs)) passed++;
    else failed++;
  }
}
console.log(`node-matrix: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
