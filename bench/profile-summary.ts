/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from `npm run bench -- ingest --profile`):
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--all]
 *
 * Only the samples inside the measurement window are counted when `<name>.window.json` sits
 * next to the profile (the ingest scenario writes it; `--all` counts every sample). Prints where
 * the CPU went by package (tributary's own files one by one), the functions with the most self
 * time, and tributary's functions by inclusive time (self + what they call), each as % of the
 * busy (non-idle) samples.
 *
 * tsx runs TypeScript as whitespace-minified JavaScript (one line per file), so the profile's
 * positions are columns of that one line. They are mapped back to TypeScript lines through the
 * source maps in tsx's cache (`<tmpdir>/tsx-<uid>/`): of the cached versions of a file, the one
 * whose code has the profile's function names at the profile's columns is used. When no cached
 * version matches (the cache was cleared), functions are shown without a line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../scripts/services/paths.js';
import { table } from './lib/format.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function main(): void {
  const argv = process.argv.slice(2);
  const file = argv.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--all]\n');
    process.exit(2);
  }
  const topAt = argv.indexOf('--top');
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const windowFile = file.replace(/\.cpuprofile$/, '.window.json');
  const window =
    !argv.includes('--all') && existsSync(windowFile)
      ? (JSON.parse(readFileSync(windowFile, 'utf8')) as { startUs: number; endUs: number; records?: number })
      : undefined;

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  lines = sourceLines(profile);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Each sample's duration is the delta to the next sample.
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (window && (t < window.startUs || t > window.endUs)) continue;
    const node = byId.get(profile.samples[i])!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const key = frameKey(node);
    self.set(key, (self.get(key) ?? 0) + dt);
    const pkg = packageOf(node);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = frameKey(byId.get(id)!);
      if (!seen.has(k)) {
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
      }
    }
  }
  const pct = (v: number): string => `${((100 * v) / busy).toFixed(1)}%`;
  const ms = (v: number): string => (v / 1000).toFixed(0);
  const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]);

  const out: string[] = [];
  out.push(`${relative(process.cwd(), file)}: ${window ? 'measurement window' : 'whole profile'}, busy ${ms(busy)} ms, idle ${ms(idle)} ms` +
    (window?.records ? `, ${window.records.toLocaleString('en-US')} records, ${(busy / window.records).toFixed(2)} busy µs per record` : ''));
  out.push('', 'by package (self time)');
  out.push(table(['package / file', 'ms', '% busy'], sorted(byPackage).map(([k, v]) => [k, ms(v), pct(v)])));
  out.push('', `top ${top} functions by self time`);
  out.push(table(['function', 'ms', '% busy'], sorted(self).slice(0, top).map(([k, v]) => [k, ms(v), pct(v)])));
  out.push('', "tributary's functions by inclusive time (self + callees)");
  out.push(
    table(
      ['function', 'ms', '% busy', 'self %'],
      sorted(inclusive)
        .filter(([k]) => k.startsWith('src/'))
        .slice(0, top)
        .map(([k, v]) => [k, ms(v), pct(v), pct(self.get(k) ?? 0)]),
    ),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

function fileOf(node: ProfileNode): string {
  const url = node.callFrame.url;
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(repoRoot) ? relative(repoRoot, path) : path;
}

/** Original (TypeScript) line of each `url:column`, where a source map told it. */
let lines = new Map<string, number>();

function frameKey(node: ProfileNode): string {
  const { functionName, lineNumber, columnNumber, url } = node.callFrame;
  const file = fileOf(node);
  const name = functionName || '(anonymous)';
  if (!file) return name;
  if (url.endsWith('.ts')) {
    const line = lines.get(`${url}:${columnNumber}`);
    return line === undefined ? `${file}:${name}` : `${file}:${name}:${line}`;
  }
  return `${file}:${name}:${lineNumber + 1}`;
}

interface CachedTransform {
  readonly code: string;
  readonly map: SourceMapPayload;
  readonly mtimeMs: number;
}

/** Maps the profile's TypeScript frames to original lines through tsx's cached source maps. */
function sourceLines(profile: Profile): Map<string, number> {
  const result = new Map<string, number>();
  const frames = new Map<string, Array<{ name: string; column: number }>>();
  for (const n of profile.nodes) {
    const { url, functionName, columnNumber } = n.callFrame;
    if (!url.startsWith('file://') || !url.endsWith('.ts')) continue;
    const list = frames.get(url) ?? [];
    if (!list.some((f) => f.column === columnNumber)) list.push({ name: functionName, column: columnNumber });
    frames.set(url, list);
  }
  if (frames.size === 0) return result;
  const wanted = new Set([...frames.keys()].map((u) => fileURLToPath(u)));
  const cached = new Map<string, CachedTransform[]>();
  const cacheDir = join(tmpdir(), `tsx-${userInfo().uid}`);
  if (!existsSync(cacheDir)) return result;
  for (const entry of readdirSync(cacheDir)) {
    const path = join(cacheDir, entry);
    let text: string;
    try {
      if (!statSync(path).isFile()) continue;
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const source = /"sources":\["([^"]+)"\]/.exec(text.slice(-4096))?.[1];
    if (!source || !wanted.has(source)) continue;
    try {
      const parsed = JSON.parse(text) as { code: string; map: SourceMapPayload };
      const list = cached.get(source) ?? [];
      list.push({ code: parsed.code, map: parsed.map, mtimeMs: statSync(path).mtimeMs });
      cached.set(source, list);
    } catch {
      // not a transform entry
    }
  }
  for (const [url, list] of frames) {
    const candidates = cached.get(fileURLToPath(url));
    if (!candidates) continue;
    // The version whose code has the named functions where the profile saw them (V8's column
    // of a method is its parameter list, right after the name).
    const score = (c: CachedTransform): number =>
      list.filter((f) => {
        const name = f.name.replace(/^(get|set) /, '');
        return name.length > 0 && c.code.startsWith(name, f.column - name.length);
      }).length;
    const best = [...candidates].sort((a, b) => score(b) - score(a) || b.mtimeMs - a.mtimeMs)[0];
    if (score(best) === 0 && list.some((f) => f.name)) continue;
    const map = new SourceMap(best.map);
    for (const f of list) {
      const entry = map.findEntry(0, f.column) as { originalLine?: number };
      if (typeof entry.originalLine === 'number') result.set(`${url}:${f.column}`, entry.originalLine + 1);
    }
  }
  return result;
}

function packageOf(node: ProfileNode): string {
  const file = fileOf(node);
  if (!file) return node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : '(native)';
  if (file.startsWith('src/') || file.startsWith('bench/')) return file;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (nm) return nm[1];
  if (file.startsWith('node:')) return 'node: (built-ins)';
  return file;
}

main();
