// The harness's worker processes, managed as an orchestrator would: a worker that should run and
// exits (SIGKILL, a crash, supervision giving up) is started again after a short delay; one
// whose /health has failed for too long is killed and started again (a liveness probe).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerConfig } from './worker.js';
import type { HarnessMessage, WorkerMessage } from './worker-protocol.js';

/** A worker exit nobody asked for. */
export interface UnexpectedExit {
  readonly worker: string;
  readonly incarnation: number;
  readonly at: number;
  readonly code: number | null;
  readonly signal: string | null;
  /**
   * `crash` (uncaught error, exit 70/71 or another code), `gave-up` (supervision, exit 3),
   * `start-failed` (`start()` threw, exit 4: the broker unreachable), `liveness` (killed by the probe).
   */
  readonly kind: 'crash' | 'gave-up' | 'start-failed' | 'liveness';
  readonly logFile: string;
  readonly logTail: string;
}

/** One RSS sample of a worker (VmRSS from /proc/<pid>/status). */
export interface RssSample {
  readonly at: number;
  readonly worker: string;
  readonly kb: number;
}

interface WorkerState {
  readonly id: string;
  incarnation: number;
  child: ChildProcess | undefined;
  /** Whether the orchestrator wants it running. */
  desired: boolean;
  /** The harness is about to signal it: its exit is expected. */
  expectExit: boolean;
  stopped: boolean;
  ready: boolean;
  logFile: string;
  unhealthySince: number | undefined;
  livenessKill: boolean;
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  readonly runDir: string;
  readonly config: (id: string) => WorkerConfig;
  readonly onMessage: (worker: string, message: WorkerMessage) => void;
  /** Restart delay after an exit of a worker that should run. Default 1,000 ms. */
  readonly restartDelayMs?: number;
  /** Kill and restart a worker whose health has failed this long. Default 30,000 ms. */
  readonly livenessMs?: number;
  readonly log: (line: string) => void;
}

const WORKER_SCRIPT = 'test/chaos/worker.ts';

export class WorkerPool {
  private readonly workers = new Map<string, WorkerState>();
  readonly unexpectedExits: UnexpectedExit[] = [];
  readonly rss: RssSample[] = [];
  private sampler: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts sampling every worker's RSS every 500 ms. */
  startSampling(): void {
    this.sampler = setInterval(() => {
      const at = Date.now();
      for (const w of this.workers.values()) {
        const pid = w.child?.pid;
        if (pid === undefined || w.child?.exitCode !== null || w.child?.signalCode !== null) continue;
        const kb = readRssKb(pid);
        if (kb !== undefined) this.rss.push({ at, worker: w.id, kb });
      }
    }, 500);
    this.sampler.unref();
  }

  /** Ids of the workers that should run. */
  get desired(): string[] {
    return [...this.workers.values()].filter((w) => w.desired).map((w) => w.id);
  }

  /** Ids of the workers running now (started, not exited, not SIGSTOPped). */
  get running(): string[] {
    return [...this.workers.values()].filter((w) => w.child && w.child.exitCode === null && w.child.signalCode === null && !w.stopped).map((w) => w.id);
  }

  pid(id: string): number | undefined {
    return this.workers.get(id)?.child?.pid;
  }

  /** Starts worker `id` (it should run from now on) and resolves when it reports ready. */
  async add(id: string, readyTimeoutMs = 90_000): Promise<void> {
    let w = this.workers.get(id);
    if (!w) {
      w = {
        id,
        incarnation: 0,
        child: undefined,
        desired: true,
        expectExit: false,
        stopped: false,
        ready: false,
        logFile: '',
        unhealthySince: undefined,
        livenessKill: false,
        restartTimer: undefined,
        exited: Promise.resolve(),
      };
      this.workers.set(id, w);
    }
    w.desired = true;
    this.launch(w);
    await this.waitReady(id, readyTimeoutMs);
  }

  /** Resolves once worker `id` has reported ready (after its latest start), or is no longer wanted. */
  async waitReady(id: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.workers.get(id)?.ready && this.workers.get(id)?.desired) {
      if (Date.now() > deadline) throw new Error(`worker ${id} did not get ready within ${timeoutMs} ms (log: ${this.workers.get(id)?.logFile})`);
      await sleep(100);
    }
  }

  /** Removes worker `id` gracefully: SIGTERM (drain, commit, leave the group), SIGKILL after `graceMs`. */
  async remove(id: string, graceMs = 25_000): Promise<void> {
    const w = this.workers.get(id);
    if (!w) return;
    w.desired = false;
    if (w.restartTimer) clearTimeout(w.restartTimer);
    const child = w.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    w.expectExit = true;
    if (w.stopped) this.signal(w, 'SIGCONT');
    this.signal(w, 'SIGTERM');
    const timer = setTimeout(() => this.signal(w, 'SIGKILL'), graceMs);
    await w.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: a crash mid-batch. The orchestrator starts it again after the restart delay. */
  async kill(id: string): Promise<void> {
    const w = this.workers.get(id);
    if (!w?.child) return;
    w.expectExit = true;
    this.signal(w, 'SIGKILL');
    await w.exited;
  }

  /** SIGSTOP: the process hangs with its sockets open. */
  pause(id: string): void {
    const w = this.workers.get(id);
    if (!w?.child) return;
    w.stopped = true;
    this.signal(w, 'SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(id: string): void {
    const w = this.workers.get(id);
    if (!w?.child) return;
    w.stopped = false;
    this.signal(w, 'SIGCONT');
  }

  /** Sends `message` to every running worker. */
  broadcast(message: HarnessMessage): void {
    for (const w of this.workers.values()) {
      if (w.child?.connected) w.child.send(message);
    }
  }

  /** Makes sure every desired worker runs and is ready (restarts pending ones now). */
  async ensureAllRunning(timeoutMs = 90_000): Promise<void> {
    for (const w of this.workers.values()) {
      if (!w.desired) continue;
      if (w.stopped) this.resume(w.id);
      if (!w.child || w.child.exitCode !== null || w.child.signalCode !== null) {
        if (w.restartTimer) clearTimeout(w.restartTimer);
        this.launch(w);
      }
    }
    for (const id of this.desired) await this.waitReady(id, timeoutMs);
  }

  /** Stops every worker gracefully. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.sampler) clearInterval(this.sampler);
    await Promise.all([...this.workers.keys()].map((id) => this.remove(id)));
  }

  private launch(w: WorkerState): void {
    w.incarnation++;
    w.ready = false;
    w.stopped = false;
    w.expectExit = false;
    w.livenessKill = false;
    w.unhealthySince = undefined;
    w.logFile = join(this.options.runDir, `worker-${w.id}.${w.incarnation}.log`);
    const out = openSync(w.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT, JSON.stringify(this.options.config(w.id))], {
        stdio: ['ignore', out, out, 'ipc'],
        env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      });
    } finally {
      closeSync(out);
    }
    w.child = child;
    const incarnation = w.incarnation;
    child.on('message', (raw) => {
      const message = raw as WorkerMessage;
      if (message.type === 'ready') w.ready = true;
      if (message.type === 'health') this.onHealth(w, message.ok);
      this.options.onMessage(w.id, message);
    });
    w.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        if (w.child === child) w.ready = false;
        this.onExit(w, incarnation, code, signal);
      });
    });
    this.options.log(`worker ${w.id} started (pid ${child.pid}, incarnation ${incarnation})`);
  }

  private onHealth(w: WorkerState, ok: boolean): void {
    if (ok || w.stopped) {
      w.unhealthySince = undefined;
      return;
    }
    w.unhealthySince ??= Date.now();
    const livenessMs = this.options.livenessMs ?? 30_000;
    if (Date.now() - w.unhealthySince > livenessMs && !w.livenessKill) {
      this.options.log(`worker ${w.id} unhealthy for ${livenessMs} ms: the liveness probe kills it`);
      w.livenessKill = true;
      this.signal(w, 'SIGKILL');
    }
  }

  private onExit(w: WorkerState, incarnation: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (incarnation !== w.incarnation) return;
    this.options.log(`worker ${w.id} (incarnation ${incarnation}) exited: code ${code}, signal ${signal}`);
    if (!w.expectExit && !this.closing) {
      const kind: UnexpectedExit['kind'] = w.livenessKill ? 'liveness' : code === 3 ? 'gave-up' : code === 4 ? 'start-failed' : 'crash';
      this.unexpectedExits.push({
        worker: w.id,
        incarnation,
        at: Date.now(),
        code,
        signal,
        kind,
        logFile: w.logFile,
        logTail: tailFile(w.logFile, 30),
      });
    }
    w.expectExit = false;
    if (w.desired && !this.closing) {
      w.restartTimer = setTimeout(() => {
        w.restartTimer = undefined;
        if (w.desired && !this.closing && (!w.child || w.child.exitCode !== null || w.child.signalCode !== null)) this.launch(w);
      }, this.options.restartDelayMs ?? 1_000);
    }
  }

  private signal(w: WorkerState, signal: NodeJS.Signals): void {
    try {
      w.child?.kill(signal);
    } catch {
      // already gone
    }
  }
}

function readRssKb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The last `lines` lines of a file ('' if unreadable). */
export function tailFile(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
