import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, appendFileSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { sleep } from './net.js';

/** How a service process is launched. */
/**
 * What every service a test starts on its own (a Kafka broker, a nats-server) can be told to
 * do: the faults the chaos suite injects and the lifecycle tests need.
 *
 * @example
 * await handle.kill();   // SIGKILL: a crash
 * await handle.start();  // same ports, same data
 */
export interface ServiceHandle {
  readonly pidFile: string;
  /** The process's pid while it runs. */
  readonly pid: number | undefined;
  isRunning(): boolean;
  /** Starts it again after stop() or kill(), on the same ports and data, and waits until ready. */
  start(): Promise<void>;
  /** SIGTERM (a clean shutdown); SIGKILL after 30 s. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** SIGSTOP: it hangs with its sockets open. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** stop() (or kill() with `{ hard: true }`), then start(): same ports, same data. */
  restart(options?: { readonly hard?: boolean }): Promise<void>;
  /** Waits until it answers clients again (after resume(), say). */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** kill() and delete the instance directory. */
  destroy(): Promise<void>;
}

export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** stdout and stderr are appended here. */
  readonly outputFile: string;
  /** The pid is written here while the process runs (services:down reads it). */
  readonly pidFile: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * true: own session, survives the parent (the shared services of services:up).
   * false: killed when the parent process exits (a test's own broker).
   */
  readonly detached: boolean;
}

const attached = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test worker that ends (or crashes) must not leave its own brokers behind.
  process.once('exit', () => {
    for (const child of attached) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * One OS process of a service, restartable with the same command line: start, stop (SIGTERM,
 * then SIGKILL after a grace period), kill (SIGKILL), pause (SIGSTOP) and resume (SIGCONT).
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private paused = false;
  private running = false;

  constructor(private readonly spec: LaunchSpec) {}

  /** The running process id, if any. */
  get pid(): number | undefined {
    return this.isRunning() ? this.child?.pid : undefined;
  }

  /** Whether the process has been started and has not exited. */
  isRunning(): boolean {
    return this.running;
  }

  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  whenExited(): Promise<number | null> {
    return this.exited;
  }

  /** Launches the process; throws if it is already running. */
  start(): void {
    if (this.isRunning()) throw new Error(`already running (pid ${this.child?.pid})`);
    const { spec } = this;
    mkdirSync(dirname(spec.outputFile), { recursive: true });
    const out = openSync(spec.outputFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        detached: spec.detached,
        stdio: ['ignore', out, out],
      });
    } finally {
      closeSync(out);
    }
    this.child = child;
    this.paused = false;
    // A spawn that fails (no such executable) emits 'error' and never 'exit'.
    this.running = child.pid !== undefined;
    this.exited = new Promise((resolvePromise) => {
      const ended = (code: number | null): void => {
        if (this.child === child) this.running = false;
        attached.delete(child);
        removePidFile(spec.pidFile, child.pid);
        resolvePromise(code);
      };
      child.once('exit', (code) => ended(code));
      child.once('error', (err) => {
        // Shows in the tail of the output file that startup errors quote.
        appendFileSync(spec.outputFile, `could not start ${spec.command}: ${err.message}\n`);
        ended(null);
      });
    });
    if (child.pid !== undefined) writePidFile(spec.pidFile, child.pid);
    // Never keep the parent's event loop alive for a service.
    child.unref();
    if (!spec.detached) {
      installExitHook();
      attached.add(child);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after graceMs. Resolves once it has exited. */
  async stop(graceMs = 30_000): Promise<void> {
    if (!this.isRunning()) return;
    // An unref'd child's exit event would not keep this process alive to see it.
    this.child?.ref();
    this.signal('SIGTERM');
    if (this.paused) this.signal('SIGCONT'); // a stopped process cannot handle SIGTERM
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolvePromise) => {
      timer = setTimeout(() => resolvePromise('timeout'), graceMs);
    });
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.kill();
    await this.exited;
  }

  /** SIGKILL: the process dies at once, as in a crash. Resolves once it has exited. */
  async kill(): Promise<void> {
    if (!this.isRunning()) return;
    this.child?.ref();
    this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process freezes (sockets stay open, nothing is answered). */
  pause(): void {
    if (!this.isRunning()) throw new Error('not running');
    this.signal('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (!this.isRunning()) throw new Error('not running');
    this.signal('SIGCONT');
    this.paused = false;
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      this.child?.kill(signal);
    } catch {
      // exited in between
    }
  }
}

function writePidFile(pidFile: string, pid: number): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pid}\n`);
}

function removePidFile(pidFile: string, pid: number | undefined): void {
  if (readPidFile(pidFile) === pid) rmSync(pidFile, { force: true });
}

/** The pid in a pid file, or undefined when there is none. */
export function readPidFile(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether pid is a live process (a zombie counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** The command line of pid (arguments joined by spaces), or '' when unknown. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * Ends the process in pidFile if it is alive and its command line contains `marker` (so a
 * recycled pid is never signalled): SIGTERM, SIGKILL after graceMs. Removes the pid file.
 * Returns the pid that was stopped, if any.
 */
export async function stopPidFile(pidFile: string, marker: string, graceMs = 30_000): Promise<number | undefined> {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  let stopped: number | undefined;
  if (isAlive(pid) && commandLine(pid).includes(marker)) {
    stopped = pid;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    };
    signal('SIGTERM');
    signal('SIGCONT');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      signal('SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
  }
  rmSync(pidFile, { force: true });
  return stopped;
}

/**
 * The full path of an executable found on PATH, or in /usr/sbin or /sbin (where Debian puts
 * nats-server, and which a non-root PATH may lack), or undefined.
 */
export function which(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The last `lines` lines of a file, for error messages ('' when unreadable). */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}
