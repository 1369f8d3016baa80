/** The machine and the versions a benchmark ran on. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/services/paths.js';
import { kafkaVersion } from '../../scripts/services/index.js';

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly memory: string;
  readonly node: string;
}

export interface Versions {
  readonly kafka: string;
  readonly kafkajs: string;
  readonly node: string;
  readonly tributary: string;
  /** The commit measured, `+src-modified` when src/ had uncommitted changes. */
  readonly commit: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
  };
}

export function versions(): Versions {
  const version = (file: string): string => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  return {
    kafka: kafkaVersion(),
    kafkajs: version(join(repoRoot, 'node_modules', 'kafkajs', 'package.json')),
    node: process.version,
    tributary: version(join(repoRoot, 'package.json')),
    commit: commit(),
  };
}

function commit(): string {
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const head = git('rev-parse', '--short=12', 'HEAD');
  if (!head) return 'unknown (not a git checkout)';
  return git('status', '--porcelain', '--', 'src')?.length ? `${head}+src-modified` : head;
}
