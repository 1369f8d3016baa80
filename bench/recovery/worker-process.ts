/**
 * A worker of the recovery scenario as the parent sees it: a long-running child process (tributary's
 * bench/recovery/tributary-worker.ts or Kafka Streams' `RecoveryWorker`) that prints its
 * assignment as `ASSIGNED {"at":…,"partitions":[…]}` lines until it is stopped or killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../scripts/services/paths.js';
import { procCpuSeconds } from '../lib/processes.js';

/** Prefix of a worker's assignment line on stdout. */
export const ASSIGNED_PREFIX = 'ASSIGNED ';

export interface Assignment {
  /** When the worker reported it (epoch ms). */
  readonly at: number;
  readonly partitions: readonly number[];
}

/** A stateful tributary worker's warm standbys (`--standbys`): how many partitions it follows, and their summed lag (records). */
export const STANDBYS_PREFIX = 'STANDBYS ';
/** A stateful tributary worker's restore of a partition: `{ at, partition, records, localRecords, keys }`. */
export const RESTORED_PREFIX = 'RESTORED ';

export interface StandbyReport {
  readonly at: number;
  readonly count: number;
  readonly lag: number | null;
}
export interface RestoreReport {
  readonly at: number;
  readonly partition: number;
  readonly records: number;
  readonly localRecords: number;
  readonly keys: number;
  readonly durationMs: number;
}

export class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly history: Assignment[] = [];
  /** Its last standby report (stateful tributary workers with standbys). */
  standbys: StandbyReport | undefined;
  /** Its restores, in order (stateful tributary workers). */
  readonly restores: RestoreReport[] = [];
  private exit: string | undefined;
  /** Resolves when the process has exited (how: `code N` or the signal). */
  readonly exited: Promise<string>;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    onLine: (line: string) => void,
  ) {
    this.child = spawn(command, [...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (line.startsWith(ASSIGNED_PREFIX)) this.history.push(JSON.parse(line.slice(ASSIGNED_PREFIX.length)) as Assignment);
      else if (line.startsWith(STANDBYS_PREFIX)) this.standbys = JSON.parse(line.slice(STANDBYS_PREFIX.length)) as StandbyReport;
      else if (line.startsWith(RESTORED_PREFIX)) this.restores.push(JSON.parse(line.slice(RESTORED_PREFIX.length)) as RestoreReport);
      else if (line.trim()) onLine(`${name}: ${line}`);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => line.trim() && onLine(`${name}: ${line}`));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.exit = `failed to start: ${err.message}`;
        resolve(this.exit);
      });
      this.child.once('exit', (code, signal) => {
        this.exit = signal ?? `code ${code}`;
        resolve(this.exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How it exited, or undefined while it runs. */
  get exitedWith(): string | undefined {
    return this.exit;
  }

  /** The partitions it runs now (its last report). */
  get partitions(): readonly number[] {
    return this.history.at(-1)?.partitions ?? [];
  }

  /** Every assignment it reported, in order. */
  get assignments(): readonly Assignment[] {
    return this.history;
  }

  /** CPU seconds (user + system) it has used so far; undefined once it is gone. */
  cpuSeconds(): number | undefined {
    return procCpuSeconds(this.child.pid);
  }

  /** Sends a signal to this process only (by its pid). */
  signal(signal: NodeJS.Signals): void {
    if (this.exit === undefined && this.child.pid !== undefined) process.kill(this.child.pid, signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exit !== undefined) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
