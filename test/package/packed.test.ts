import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack` (the `prepare` script builds dist/, in a copy: see
 * {@link packableCopy}), the tarball
 * installed into a new project outside this repository (so 'tributary' resolves through its
 * "exports", not through this repo's tsconfig paths), a ten-line app compiled there with
 * `tsc --strict` and run by plain Node on the embedded MemoryLog.
 */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const APP = `import { map } from 'rxjs';
import { createTributary, defineProcessor, MemoryLog, toFunction } from 'tributary';

const log = new MemoryLog({ defaultPartitions: 2 });
const doubled: number[] = [];
const double = defineProcessor<string | null, { n: number }>({
  id: 'double', source: { topics: 'numbers' },
  pipeline: (records) => records.pipe(map((r) => r.value.n * 2)),
  sinks: toFunction('collect', (items: readonly number[]) => void doubled.push(...items)),
});
log.createTopic('numbers');
await log.producer().send('numbers', [1, 2, 3].map((n) => ({ key: \`k\${n}\`, value: JSON.stringify({ n }) })));
const app = createTributary({ processors: [double], log });
await app.start();
await app.finishInput();
await app.stop();
console.log(JSON.stringify(doubled.sort((a, b) => a - b)));
`;

let work: string;
let tarball: string;
let files: string[];

/**
 * A copy of what `npm pack` reads (the package's own files, sources and build config), with this
 * repository's node_modules linked, so that its `prepare` builds a dist/ of its own: packing the
 * repository itself would rebuild the dist/ other tests (the demo's) run from while they run
 * (`npm run build` removes it first). Its `prepare` is the build alone: patch-package has
 * already patched the linked node_modules.
 */
function packableCopy(into: string): string {
  const copy = join(into, 'package-src');
  mkdirSync(copy);
  for (const entry of ['src', 'static', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) {
    cpSync(join(root, entry), join(copy, entry), { recursive: true });
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  pkg.scripts.prepare = 'npm run build';
  writeFileSync(join(copy, 'package.json'), JSON.stringify(pkg, null, 2));
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tributary-packed-'));
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], { cwd: packableCopy(work), maxBuffer: 64 * 1024 * 1024 });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, packed.filename);
  files = packed.files.map((f) => f.path);

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, type: 'module' }));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', types: ['node'], skipLibCheck: false, outDir: 'out' }, include: ['app.ts'] }),
  );
  writeFileSync(join(app, 'app.ts'), APP);
  // From npm's cache where it can (`npm ci` put every tarball there): the registry is asked
  // only for the version lists that resolve the tarball's ranges.
  await run(
    npm,
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, `rxjs@${own.dependencies.rxjs}`, `@types/node@${own.devDependencies['@types/node']}`],
    { cwd: app, maxBuffer: 64 * 1024 * 1024 },
  );
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds dist/ (ESM, .d.ts, source maps) and the console assets, and no sources, tests or patches', () => {
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'static/console/index.html']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => !/^(dist|static)\//.test(f)).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(readFileSync(join(work, 'app', 'node_modules', 'tributary', 'dist', 'index.js'), 'utf8')).toMatch(/^export /m);
    expect(files).toContain('dist/testing/index.js');
  });

  it('installs into a new project whose ten-line app compiles with tsc --strict and runs on MemoryLog', async () => {
    const app = join(work, 'app');
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
    const { stdout, stderr } = await run(process.execPath, ['out/app.js'], { cwd: app, env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'silent' } });
    expect(stdout.trim().split('\n').at(-1)).toBe('[2,4,6]');
    expect(stderr).toBe('');
  }, 120_000);

  it('fails to compile a type error against the installed declarations (the types are real)', async () => {
    const app = join(work, 'app');
    writeFileSync(join(app, 'wrong.ts'), `import { createTributary } from 'tributary';\ncreateTributary({ processors: 'none' });\n`);
    writeFileSync(join(app, 'tsconfig.wrong.json'), JSON.stringify({ extends: './tsconfig.json', include: ['wrong.ts'], compilerOptions: { noEmit: true, skipLibCheck: true } }));
    const failed = await run(process.execPath, [tsc, '-p', 'tsconfig.wrong.json'], { cwd: app }).then(
      () => undefined,
      (err: { stdout: string }) => err.stdout,
    );
    expect(failed).toMatch(/wrong\.ts\(2,\d+\): error TS2322/);
  }, 120_000);

  it('passes publint and arethetypeswrong (ESM-only profile)', async () => {
    await run(process.execPath, [join(root, 'node_modules', 'publint', 'src', 'cli.js'), 'run', tarball, '--strict'], { cwd: root });
    await run(process.execPath, [join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), tarball, '--profile', 'esm-only'], { cwd: root });
  }, 120_000);
});
