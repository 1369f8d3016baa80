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
    const arg = argv[i]!;
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
 */
export class IngestMeter {
  private seen = 0;
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
      if (this.seen !== this.lastSeen) {
        this.lastSeen = this.seen;
        this.lastProgressAt = now;
      } else if (now - this.lastProgressAt > stallMs) {
        this.fail(new Error(`${this.label}: no new record for ${Math.round(stallMs / 1000)} s (seen ${this.seen} of ${this.target})`));
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
    if (this.seen >= this.target) this.finish();
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
    });
  }

  private progress(): void {
    process.stderr.write(`${this.label}: ${grouped(this.seen)} / ${grouped(this.target)}\n`);
  }
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
