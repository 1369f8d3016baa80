/**
 * Running measured child processes: Node children that print one result line, and Java tools
 * whose CPU time is taken from the shell that waited for them (`times`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../scripts/services/paths.js';
import { RESULT_PREFIX } from '../ingest/child.js';

export interface NodeChildOptions {
  /** The .ts file, relative to the repository root. */
  readonly script: string;
  readonly args: readonly string[];
  /** Extra node flags (e.g. `--cpu-prof`). */
  readonly nodeFlags?: readonly string[];
  readonly timeoutMs: number;
  /** Where the child's progress (stderr) and log (non-result stdout) lines go. */
  readonly onLine: (line: string) => void;
}

/** Runs `node --import tsx <script> <args>` and returns its parsed result line. */
export function runNodeChild<T>(options: NodeChildOptions): Promise<T> {
  return runResultChild<T>({
    command: process.execPath,
    args: [...(options.nodeFlags ?? []), '--import', 'tsx', options.script, ...options.args],
    name: options.script,
    timeoutMs: options.timeoutMs,
    onLine: options.onLine,
  });
}

/**
 * Runs a command that prints one result line (`BENCH_RESULT {json}`, see {@link RESULT_PREFIX})
 * on stdout, and returns the parsed result; every other line goes to `onLine`. Rejects on a
 * timeout (the child is killed) or when the child exits without a result line. `onSpawn` gets
 * the child's pid (e.g. to read its CPU from /proc while it runs).
 */
export function runResultChild<T>(options: {
  readonly command: string;
  readonly args: readonly string[];
  readonly name: string;
  readonly timeoutMs: number;
  readonly onLine: (line: string) => void;
  readonly onSpawn?: (pid: number) => void;
  readonly env?: Readonly<Record<string, string>>;
}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, [...options.args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...options.env },
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let result: T | undefined;
    const tail: string[] = [];
    const keep = (line: string): void => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length)) as T;
      else {
        keep(line);
        options.onLine(line);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      keep(line);
      options.onLine(line);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} did not finish within ${Math.round(options.timeoutMs / 1000)} s\n${tail.join('\n')}`));
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined) resolve(result);
      else reject(new Error(`${options.name} exited (${signal ?? `code ${code}`}) without a result\n${tail.join('\n')}`));
    });
  });
}

export interface JavaRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** user + system CPU of the JVM, whole process (start-up, work, exit), seconds. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

/**
 * Runs `java <args>` under bash, whose `times` builtin reports the CPU the waited-for JVM used
 * (user and system, whole process).
 */
export function runJava(java: string, args: readonly string[], options: { timeoutMs: number; onLine?: (line: string) => void }): Promise<JavaRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const script = '"$@"; rc=$?; echo "__TIMES__" >&2; times >&2; exit $rc';
    const child = spawn('bash', ['-c', script, 'bash', java, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      options.onLine?.(line);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += `${line}\n`;
      if (!stderr.includes('__TIMES__')) options.onLine?.(line);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(new Error(`java ${args.join(' ')} did not finish within ${Math.round(options.timeoutMs / 1000)} s`));
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const wallSeconds = (performance.now() - started) / 1000;
      const [, timesText = ''] = stderr.split('__TIMES__');
      // `times`: the shell's user/sys, then its children's user/sys, as "1m2.345s 0m0.123s".
      const lines = timesText.trim().split('\n');
      const children = lines[1] ?? '';
      const cpuSeconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
      resolve({ code, stdout, stderr: stderr.split('__TIMES__')[0] ?? '', cpuSeconds, wallSeconds });
    });
  });
}

/** user + system CPU seconds of a running process, from /proc/<pid>/stat; undefined when unreadable. */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / USER_HZ;
  } catch {
    return undefined;
  }
}

/** Clock ticks of /proc/<pid>/stat: USER_HZ is 100 on every Linux ABI Node runs on. */
const USER_HZ = 100;
