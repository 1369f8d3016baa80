import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('tributary/testing', () => {
  it('is a separate export of the package, built from src/testing', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string; types: string }> };
    expect(pkg.exports['./testing']).toEqual({ types: './dist/testing/index.d.ts', default: './dist/testing/index.js' });
    expect(readdirSync(join(root, 'src/testing'))).toContain('index.ts');
  });

  it('is imported by no production code', () => {
    const importers = sources(join(root, 'src'))
      .filter((file) => !relative(join(root, 'src'), file).startsWith('testing'))
      .filter((file) => /from '(?:\.\.?\/)+testing\//.test(readFileSync(file, 'utf8')));
    expect(importers).toEqual([]);
  });

  it('loads under plain Node ESM', () => {
    const script = `import('./src/testing/index.ts').then((m) => console.log(JSON.stringify(Object.keys(m).sort())))`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, `${String(result.error ?? '')} ${result.stderr}`).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(['InjectedFailure', 'SimulatedClock', 'TestDriver', 'createTestDriver']);
  }, 60_000); // a child Node compiling TypeScript: 6 s under load
});
