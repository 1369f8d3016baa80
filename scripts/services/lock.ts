import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from './net.js';
import { isAlive } from './process.js';

const inProcess = new Map<string, Promise<unknown>>();

/**
 * Runs fn while holding an exclusive lock on lockFile, so that two callers (two vitest
 * projects' global setups, or services:up in two terminals) never start the same service
 * twice. A lock left by a dead process is taken over.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  // Callers in this process queue on a promise: the file lock holds our own pid, so it
  // cannot tell two of our callers apart.
  const previous = inProcess.get(lockFile) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => withFileLock(lockFile, fn, timeoutMs));
  inProcess.set(lockFile, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(lockFile) === run) inProcess.delete(lockFile);
  }
}

async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(safeRead(lockFile), 10);
    if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
      rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${lockFile} (held by pid ${holder})`);
    }
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}
