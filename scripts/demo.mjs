/**
 * `npm run demo`: examples/demo.ts as compiled JavaScript under plain `node`, not under tsx.
 *
 * Why: under tsx the demo carried tsx's loader thread (its own V8 isolate), esbuild's output and
 * source maps for every file: about 80 MB more RSS at 400,000 clicks (563 vs 482 MB, same flags).
 * So this script
 *
 * 1. builds `dist/` (`tsc -p tsconfig.build.json`, what `npm run build` and `prepare` run) when a
 *    file in `src/` is newer than `dist/index.js`, or it is missing;
 * 2. transpiles `examples/` into `.tributary/examples/` (TypeScript's `transpileModule`, no type
 *    check: `npm run typecheck` does that), the files newer than their output only; their
 *    `import ... from 'tributary'` then resolves, as in a user's project, to the package itself
 *    (`dist/`, through package.json's `exports`);
 * 3. runs the demo there with {@link NODE_FLAGS} and waits for it (Ctrl-C reaches the demo
 *    directly: it is in the terminal's process group; a SIGTERM is passed on), exiting with its code.
 *
 *   npm run demo -- --events 1000000
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.tributary', 'examples');
const require = createRequire(import.meta.url);

/**
 * V8's heap grows to about four times what is live before a full collection when the mutator is
 * busy; the embedded log's records live about a commit interval (1 s) and are promoted, so the
 * old generation filled with them. 50%: a full collection once it has grown by half of what was
 * live (`BENCHMARKS.md`, `demo-memory`).
 *
 * The young generation: Node 24's V8 grows each semi-space to 64 MiB when allocation is fast
 * (128 MiB of new space, resident, for a live heap of about 30 MB); 16 MiB is Node 20's
 * maximum. At 1M clicks on Node 24: peak RSS 405 -> 307-321 MB at the same CPU (19-22 s);
 * 8 MiB saved a little more and cost 15% more CPU.
 */
export const NODE_FLAGS = ['--heap-growing-percent=50', '--max-semi-space-size=16'];

/** Every `.ts` file under `dir`, recursively. */
function tsFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
};

function buildDist() {
  const built = mtime(join(root, 'dist', 'index.js'));
  if (built >= 0 && tsFiles(join(root, 'src')).every((file) => mtime(file) <= built)) return;
  process.stderr.write('[demo] building dist/ (tsc -p tsconfig.build.json)…\n');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

function transpileExamples() {
  const ts = require('typescript');
  // ES modules (transpileModule cannot see package.json's "type": NodeNext would give CommonJS).
  const compilerOptions = { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true };
  for (const file of tsFiles(join(root, 'examples'))) {
    const target = join(out, relative(join(root, 'examples'), file)).replace(/\.ts$/, '.js');
    if (mtime(target) >= mtime(file)) continue;
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
}

buildDist();
transpileExamples();
const child = spawn(process.execPath, [...NODE_FLAGS, join(out, 'demo.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
// Ctrl-C: the terminal signals the whole process group, so the demo gets it itself and drains;
// this process only waits for it. SIGTERM (sent to this process alone) is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
