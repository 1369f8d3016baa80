/**
 * What every ingest consumer child shares: its arguments, progress lines on stderr, the
 * measurement window (first batch handled → last record seen) and the result line on stdout.
 *
 * The parent (bench/scenarios/ingest.ts) starts each child as
 * `node --import tsx bench/ingest/<child>.ts --brokers B --topic T --group G --records N --label L`
 * and reads the one stdout line that starts with {@link RESULT_PREFIX}.
 */
import { performance } from 'node:perf_hooks';

/** Prefix of the one stdout line carrying a child's result (other stdout lines are logs). */
export const RESULT_PREFIX = 'BENCH_RESULT ';

export interface ChildArgs {
  readonly brokers: string[];
  readonly topic: string;
  readonly group: string;
  readonly records: number;
  readonly label: string;
  /** Child-specific flags, e.g. `value=json`. */
  readonly extra: Readonly<Record<string, string>>;
}

/** What a Node consumer child reports back. */
export interface ChildResult {
  readonly label: string;
  /** Records counted (≥ the target; a batch may overshoot it only if the topic held more). */
  readonly records: number;
  /** Records in the first handled batch: before the measurement window opened. */
  readonly firstBatchRecords: number;
  /** First batch handled → last record seen, seconds. */
  readonly seconds: number;
  /** Consumer start (before connect and group join) → last record seen, seconds. */
  readonly totalSeconds: number;
  /** process.cpuUsage() delta (user + system) over the measurement window, seconds. */
  readonly cpuSeconds: number;
  readonly cpuUserSeconds: number;
  readonly cpuSystemSeconds: number;
  /** process.cpuUsage() since the process started (includes tsx start-up, connect, join), seconds. */
  readonly processCpuSeconds: number;
  /** Max RSS of the child (process.resourceUsage().maxRSS), MiB. */
  readonly maxRssMiB: number;
  /** The window on the monotonic clock (process.hrtime, µs): what a --cpu-prof profile's timestamps use. */
  readonly windowStartUs: number;
  readonly windowEndUs: number;
  /** Child-specific counters (e.g. tributary's backpressure pauses). */
  readonly extra?: Readonly<Record<string, number>>;
}

/** 1234567 → "1,234,567" (toLocaleString would load ICU inside the measurement window). */
const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

const hrtimeUs = (): number => Number(process.hrtime.bigint() / 1000n);

export function parseChildArgs(argv: readonly string[] = process.argv.slice(2)): ChildArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else values.set(arg.slice(2), argv[++i] ?? '');
  }
  const need = (name: string): string => {
    const v = values.get(name);
    if (!v) throw new Error(`missing --${name}`);
    values.delete(name);
    return v;
  };
  const records = Number(need('records'));
  if (!Number.isSafeInteger(records) || records <= 0) throw new Error(`--records must be a positive integer`);
  return {
    brokers: need('brokers').split(','),
    topic: need('topic'),
    group: need('group'),
    records,
    label: need('label'),
    extra: Object.fromEntries(values),
  };
}

/**
 * Counts records and keeps the measurement window. Call {@link batch} once per handled batch
 * (raw: at the end of `eachBatch`; tributary: in the sink); {@link done} resolves when the
 * target is reached.
 *
 * With `outputs` (the keyed scenarios), the run also waits for that many results to be
 * acknowledged ({@link output}): the window closes when `target` input records were seen and
 * `outputs` results acknowledged, so it covers the whole job (the last windows' emission and
 * writes included). `extra.outputs` and `extra.inputSeconds` (window start → last input) report it.
 */
export class IngestMeter {
  private seen = 0;
  private outputsSeen = 0;
  private inputDoneAt = 0;
  // When half the target was seen: the second half's CPU per record is the warmed-up (JIT done) figure.
  private halfAt = 0;
  private halfSeen = 0;
  private halfCpu: NodeJS.CpuUsage | undefined;
  private firstBatch = 0;
  private startedAt = 0;
  private firstAt = 0;
  private firstUs = 0;
  private firstCpu: NodeJS.CpuUsage | undefined;
  private resolveDone!: (result: ChildResult) => void;
  private rejectDone!: (error: Error) => void;
  private lastProgressAt = 0;
  private lastSeen = -1;
  private progressTimer: NodeJS.Timeout | undefined;
  private finished = false;
  readonly done: Promise<ChildResult>;

  constructor(
    private readonly label: string,
    private readonly target: number,
    private readonly outputsTarget = 0,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** Ends the run with an error (e.g. the consumer failed); the child then exits with code 1. */
  fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.progressTimer);
    this.rejectDone(error);
  }

  /**
   * The consumer is about to connect: the start of the "total" window. Progress goes to stderr
   * every 2 s; no new record for `stallMs` fails the run (a wedged consumer should not hold the
   * benchmark until the parent's timeout).
   */
  start(stallMs = 60_000): void {
    this.startedAt = performance.now();
    this.lastProgressAt = this.startedAt;
    this.progressTimer = setInterval(() => {
      this.progress();
      const now = performance.now();
      if (this.seen + this.outputsSeen !== this.lastSeen) {
        this.lastSeen = this.seen + this.outputsSeen;
        this.lastProgressAt = now;
      } else if (now - this.lastProgressAt > stallMs) {
        const outputs = this.outputsTarget > 0 ? `, results ${this.outputsSeen} of ${this.outputsTarget}` : '';
        this.fail(new Error(`${this.label}: no new record for ${Math.round(stallMs / 1000)} s (seen ${this.seen} of ${this.target}${outputs})`));
      }
    }, 2000);
    this.progressTimer.unref();
  }

  /** A batch of `count` records was handled. */
  batch(count: number): void {
    if (this.finished || count === 0) return;
    if (this.firstCpu === undefined) {
      this.firstCpu = process.cpuUsage();
      this.firstAt = performance.now();
      this.firstUs = hrtimeUs();
      this.firstBatch = count;
    }
    this.seen += count;
    if (this.halfCpu === undefined && this.seen >= this.target / 2) {
      this.halfCpu = process.cpuUsage();
      this.halfAt = performance.now();
      this.halfSeen = this.seen;
    }
    if (this.seen >= this.target) {
      if (this.inputDoneAt === 0) this.inputDoneAt = performance.now();
      if (this.outputsSeen >= this.outputsTarget) this.finish();
    }
  }

  /** `count` results were acknowledged (only with an `outputs` target). */
  output(count: number): void {
    if (this.finished) return;
    this.outputsSeen += count;
    if (this.outputsSeen > this.outputsTarget && this.outputsTarget > 0) {
      this.fail(new Error(`${this.label}: ${this.outputsSeen} results, more than the ${this.outputsTarget} expected`));
      return;
    }
    if (this.seen >= this.target && this.outputsSeen >= this.outputsTarget) this.finish();
  }

  /** Results acknowledged so far. */
  get outputs(): number {
    return this.outputsSeen;
  }

  private finish(): void {
    const now = performance.now();
    const cpu = process.cpuUsage(this.firstCpu);
    const total = process.cpuUsage();
    this.finished = true;
    clearInterval(this.progressTimer);
    this.progress();
    this.resolveDone({
      label: this.label,
      records: this.seen,
      firstBatchRecords: this.firstBatch,
      seconds: (now - this.firstAt) / 1000,
      totalSeconds: (now - this.startedAt) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      processCpuSeconds: (total.user + total.system) / 1e6,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      windowStartUs: this.firstUs,
      windowEndUs: hrtimeUs(),
      extra: {
        ...(this.outputsTarget > 0 ? { outputs: this.outputsSeen, inputSeconds: (this.inputDoneAt - this.firstAt) / 1000 } : {}),
        ...secondHalf(this.seen - this.halfSeen, now - this.halfAt, this.halfCpu ? process.cpuUsage(this.halfCpu) : undefined),
      },
    });
  }

  private progress(): void {
    const outputs = this.outputsTarget > 0 ? ` in, ${grouped(this.outputsSeen)} / ${grouped(this.outputsTarget)} out` : '';
    process.stderr.write(`${this.label}: ${grouped(this.seen)} / ${grouped(this.target)}${outputs}\n`);
  }
}

/**
 * The second half of a run (from the record that reached half the target to the end): its
 * records/s and CPU-s per million, i.e. with the JIT warmed up (Kafka Streams' child reports the same).
 */
function secondHalf(records: number, ms: number, cpu: NodeJS.CpuUsage | undefined): { secondHalfRecordsPerSec?: number; secondHalfCpuPerM?: number } {
  if (!cpu || records <= 0 || ms <= 0) return {};
  return { secondHalfRecordsPerSec: records / (ms / 1000), secondHalfCpuPerM: (cpu.user + cpu.system) / 1e6 / (records / 1e6) };
}

/** Prints the result line, runs `cleanup` (bounded by `timeoutMs`), exits. */
export async function report(result: ChildResult, cleanup: () => Promise<void>, timeoutMs = 15_000): Promise<never> {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  const timer = setTimeout(() => {
    process.stderr.write(`${result.label}: cleanup did not finish within ${timeoutMs} ms; exiting anyway\n`);
    process.exit(0);
  }, timeoutMs);
  try {
    await cleanup();
  } catch (err) {
    process.stderr.write(`${result.label}: cleanup failed: ${(err as Error).message}\n`);
  }
  clearTimeout(timer);
  process.exit(0);
}

/** Runs a child's main, turning a failure into a message and exit code 1. */
export function runChild(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
