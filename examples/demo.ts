/**
 * `npm run demo`: the clickstream example on the embedded MemoryLog, on generated clicks, with a
 * live terminal view (progress, clicks/s, the latest minute's top pages, lifecycle and
 * supervision events) and a summary table at the end. No broker needed.
 *
 *   npm run demo                        # 200,000 clicks, then a summary
 *   npm run demo -- --events 1000000    # another size
 *   npm run demo -- --forever           # generate until Ctrl-C (then drain, commit, summary)
 *   npm run demo -- --partitions 8 --seed 7
 *   npm run demo -- --forever --port 9464  # the web console at http://127.0.0.1:9464/ui/
 *
 * The web console (the supervision tree, partitions, plots) is served while the demo runs; its
 * URL is printed at the start.
 *
 * Exit codes: 0 done, 1 failed, 2 a bad command line.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createLogger,
  createTributary,
  DeadLetterHeaders,
  MemoryLog,
  toFunction,
  type LifecycleEvent,
  type SupervisorEvent,
  type Tributary,
} from 'tributary';
import { clickstream } from './clickstream/app.js';
import { generateClickLines } from './clickstream/generate.js';
import type { Session } from './clickstream/sessions.js';
import type { TopPages } from './clickstream/top-pages.js';
import { LINE_HEADER, type InputLine } from './shared/input-lines.js';
import { LiveView, progressBar, table } from './shared/live-view.js';
import { produceInput } from './shared/produce-input.js';

const USAGE = `usage: npm run demo -- [--events N] [--forever] [--partitions N] [--seed S] [--rate N] [--port N]

  --events N       clicks to generate (default 200,000)
  --forever        keep generating until Ctrl-C, then drain and show the summary
  --partitions N   partitions of every topic (default 4)
  --seed S         the generator's seed (default 42)
  --rate N         with --forever: clicks per second (default 2,000)
  --port N         HTTP port of the web console (/ui/), /metrics and /health (default 0: any free port)
  --max-memory MB  with --forever: stop generating (as on Ctrl-C) when the heap passes this (default 1,536):
                   the embedded log drops what every stage has committed and compacts the stores'
                   changelogs, so the heap stays small; this is a safety net`;

class UsageError extends Error {}

interface DemoArgs {
  readonly events: number;
  readonly forever: boolean;
  readonly partitions: number;
  readonly seed: number;
  readonly rate: number;
  readonly maxMemoryMb: number;
  readonly port: number;
}

function parseDemoArgs(argv: readonly string[]): DemoArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        events: { type: 'string' },
        forever: { type: 'boolean' },
        partitions: { type: 'string' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        'max-memory': { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
  if (values.help) return 'help';
  const integer = (flag: string, value: string | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value.replaceAll('_', ''));
    if (!/^-?[\d_]+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer of at least ${min}, got '${value}'`);
    return n;
  };
  if (values.forever && values.events !== undefined) throw new UsageError('--events and --forever do not go together');
  if (values.rate !== undefined && !values.forever) throw new UsageError('--rate goes with --forever');
  if (values['max-memory'] !== undefined && !values.forever) throw new UsageError('--max-memory goes with --forever');
  return {
    events: values.forever ? Infinity : integer('events', values.events, 200_000, 1),
    forever: values.forever ?? false,
    partitions: integer('partitions', values.partitions, 4, 1),
    seed: integer('seed', values.seed, 42, Number.MIN_SAFE_INTEGER),
    rate: integer('rate', values.rate, 2_000, 1),
    maxMemoryMb: integer('max-memory', values['max-memory'], 1_536, 64),
    port: Math.min(65_535, integer('port', values.port, 0, 0)),
  };
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
// Styles only on a terminal: piped output stays plain text.
const styled = Boolean(process.stdout.isTTY) && process.env.TERM !== 'dumb' && process.env.NO_COLOR === undefined;
const bold = (s: string): string => (styled ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string): string => (styled ? `\x1b[2m${s}\x1b[22m` : s);
const heapMb = (): number => {
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 1024 / 1024;
};
const minute = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** What the view shows, updated by the sinks and the app's event streams. */
class DemoState {
  produced = 0;
  oversized = 0;
  pageViews = 0;
  sessions = 0;
  bounces = 0;
  topPages = 0;
  late = 0;
  latestTop: TopPages | undefined;
  readonly events: string[] = [];
  readonly started = performance.now();
  private rateWindow: Array<[number, number]> = [];

  event(text: string): void {
    this.events.push(`${new Date().toISOString().slice(11, 19)} ${text}`);
    if (this.events.length > 5) this.events.shift();
  }

  /** Clicks per second over the last ~2 s. */
  rate(processed: number): number {
    const now = performance.now();
    this.rateWindow.push([now, processed]);
    while (this.rateWindow.length > 2 && now - this.rateWindow[0][0] > 2_000) this.rateWindow.shift();
    const [t0, p0] = this.rateWindow[0];
    return now > t0 ? ((processed - p0) * 1000) / (now - t0) : 0;
  }
}

function describeLifecycle(e: LifecycleEvent, shortId: (id: string) => string): string | undefined {
  switch (e.type) {
    case 'processor.started':
    case 'processor.stopped':
      return `${e.type} ${shortId(e.processor)}`;
    case 'partition.started':
      return `${e.type} ${shortId(e.processor)}[${e.partition}] at offset ${e.offset}`;
    case 'partition.stopped':
      return `${e.type} ${shortId(e.processor)}[${e.partition}] committed ${e.committed}`;
    case 'partition.failed':
      return `${e.type} ${shortId(e.processor)}[${e.partition}]: ${e.error.message}`;
    case 'partition.restarting':
      return `${e.type} ${shortId(e.processor)}[${e.partition}] in ${e.delayMs} ms`;
    default:
      return undefined; // paused/resumed: backpressure, several a second when busy
  }
}

async function sumMetric(metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> }, processor?: string): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => processor === undefined || v.labels.processor === processor).reduce((s, v) => s + v.value, 0);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: DemoArgs | 'help';
  try {
    args = parseDemoArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { events, forever, partitions, seed, rate, maxMemoryMb, port } = args;
  const state = new DemoState();
  const log = new MemoryLog();
  const inputTopic = 'clicks';
  log.createTopic(inputTopic, partitions);
  // Nobody reads the demo's dead letters back (they are counted): it keeps the last 16 MiB.
  await log.admin().ensureTopics([{ name: 'clickstream.dlq', partitions: 1, config: { 'retention.bytes': String(16 * 1024 * 1024) } }]);
  const processors = clickstream.processors({
    prefix: '',
    inputTopic,
    partitions,
    outOfOrdernessMs: 5_000,
    sinks: {
      'page-views': toFunction<unknown>('page-views', (items) => void (state.pageViews += items.length)),
      sessions: toFunction<Session>('sessions', (items) => {
        state.sessions += items.length;
        for (const s of items) if (s.bounce) state.bounces++;
      }),
      'top-pages': toFunction<TopPages>('top-pages', (items) => {
        state.topPages += items.length;
        for (const t of items) if (!state.latestTop || t.windowStart > state.latestTop.windowStart) state.latestTop = t;
      }),
      late: toFunction<unknown>('late', (items) => void (state.late += items.length)),
    },
  });
  const first = processors[0].id;
  const shortId = (id: string): string => id.replace(/^clickstream-?/, '') || 'clicks';
  const app: Tributary = createTributary({
    log,
    processors,
    logger: createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' }),
    httpPort: port,
    // The web console, read-only: no control token in a demo.
    ui: true,
  });
  app.lifecycle.subscribe((e) => {
    const text = describeLifecycle(e, shortId);
    if (text) state.event(text);
  });
  app.supervision.subscribe((e: SupervisorEvent) => {
    if (e.type !== 'supervisor.child-started' && e.type !== 'supervisor.child-stopped') state.event(`supervision ${e.type.replace('supervisor.', '')} ${'child' in e ? String(e.child) : ''}`);
  });

  const view = new LiveView(process.stdout);
  let stopping = false;
  let processed = 0;
  let deadLetters = 0;
  const draw = async (force = false): Promise<void> => {
    processed = await sumMetric(app.metrics.recordsIn, first);
    deadLetters = (await sumMetric(app.metrics.deadLetters)) + state.oversized;
    const elapsed = (performance.now() - state.started) / 1000;
    const perSecond = state.rate(processed);
    const total = forever ? state.produced : events;
    const top = state.latestTop
      ? state.latestTop.top.map((t, i) => `${i + 1}. ${t.page} ${bold(n(t.views))}`).join('   ')
      : dim('(no minute has closed yet)');
    const lines = [
      `${bold('tributary demo')} · clickstream on the embedded MemoryLog · ${partitions} partitions${forever ? ` · ${n(rate)} clicks/s until Ctrl-C` : ''}`,
      `web console ${bold(app.consoleUrl ?? '…')}`,
      `${forever ? '' : `${progressBar(total > 0 ? processed / total : 0)} ${String(Math.floor((100 * processed) / Math.max(1, total))).padStart(3)}%  `}${n(processed)}${forever ? '' : ` / ${n(total)}`} clicks  ${bold(n(perSecond))} clicks/s  ${elapsed.toFixed(1)} s${stopping ? '  draining…' : ''}`,
      `dead letters ${n(deadLetters)} · late ${n(state.late)} · page-views ${n(state.pageViews)} · sessions ${n(state.sessions)} · top-pages ${n(state.topPages)}`,
      `top pages of ${state.latestTop ? minute(state.latestTop.windowStart) : '…'}: ${top}`,
      dim('lifecycle / supervision:'),
      ...state.events.map((e) => dim(`  ${e}`)),
    ];
    const plain =
      `[demo] ${n(processed)}${forever ? '' : `/${n(total)}`} clicks processed, ${n(perSecond)}/s, ${elapsed.toFixed(1)} s; dead letters ${n(deadLetters)}, late ${n(state.late)}, ` +
      `page-views ${n(state.pageViews)}, sessions ${n(state.sessions)}, top-pages ${n(state.topPages)}` +
      (state.latestTop ? `; top ${minute(state.latestTop.windowStart)}: ${state.latestTop.top.map((t) => `${t.page} ${t.views}`).join(', ')}` : '');
    view.render(lines, plain, force);
  };
  const timer = setInterval(() => void draw(), view.tty ? 100 : 250);

  // Ctrl-C: stop generating, then drain (every window fires), commit and summarise. A second
  // Ctrl-C quits at once; repeats within a second are the same press (the terminal signals npm,
  // tsx and node alike, and tsx relays it once more).
  let signalledAt = 0;
  const onSignal = (): void => {
    const now = Date.now();
    if (stopping && signalledAt > 0 && now - signalledAt > 1_000) process.exit(130);
    if (signalledAt === 0) signalledAt = now;
    if (!stopping) state.event('Ctrl-C: no more clicks; draining, then the summary (Ctrl-C again to quit now)');
    stopping = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await app.start();
    if (!view.tty) process.stdout.write(`[demo] web console: ${app.consoleUrl}\n`);
    const producer = log.producer();
    let lineNumber = 0;
    const budgetStart = performance.now();
    // Lines are produced in chunks, letting the pipeline (same thread) keep up: at most 20,000
    // clicks ahead of it; with --forever, also at most `rate` clicks a second.
    async function* lines(): AsyncGenerator<InputLine> {
      for (const text of generateClickLines({ events, seed })) {
        lineNumber++;
        if (text.trim() === '') continue;
        yield { text, lineNumber };
        if (lineNumber % 1_000 === 0) {
          for (;;) {
            if (stopping) return;
            if (forever && heapMb() > maxMemoryMb) {
              stopping = true;
              state.event(`memory passed ${n(maxMemoryMb)} MB: no more clicks; draining`);
              return;
            }
            processed = await sumMetric(app.metrics.recordsIn, first);
            const ahead = state.produced - processed;
            const early = forever && state.produced > (rate * (performance.now() - budgetStart)) / 1000;
            if (ahead < 20_000 && !early) break;
            await new Promise((r) => setTimeout(r, 5));
          }
          await new Promise((r) => setImmediate(r));
        }
      }
    }
    await produceInput({
      producer,
      topic: inputTopic,
      lines: lines(),
      keyOf: clickstream.keyOf,
      onProgress: (count) => (state.produced = count),
      onOversized: async (line, bytes) => {
        state.oversized++;
        await producer.send('clickstream.dlq', [
          {
            key: null,
            value: null,
            headers: {
              [LINE_HEADER]: String(line.lineNumber),
              [DeadLetterHeaders.error]: `record of ${bytes} bytes is too large to produce`,
              [DeadLetterHeaders.reason]: 'oversized',
            },
          },
        ]);
      },
    });
    stopping = true;
    await app.finishInput({ timeoutMs: 600_000 });
    await app.stop();
    clearInterval(timer);
    await draw(true);
    view.done();

    const elapsed = (performance.now() - state.started) / 1000;
    const rss = process.memoryUsage().rss / 1024 / 1024;
    const peakRss = process.resourceUsage().maxRSS / 1024;
    const cpu = process.cpuUsage();
    const valid = processed - (deadLetters - state.oversized);
    process.stdout.write(
      `\n${bold('summary')}\n${table(
        ['', 'count'],
        [
          ['clicks produced', n(state.produced + state.oversized)],
          ['processed by the first stage', n(processed)],
          ['dead letters (malformed)', n(deadLetters)],
          ['late clicks', n(state.late)],
          ['page-views (page × minute)', n(state.pageViews)],
          ['sessions', n(state.sessions)],
          ['  of which bounces', `${n(state.bounces)} (${state.sessions ? ((100 * state.bounces) / state.sessions).toFixed(1) : '0'}%)`],
          ['top-pages (minutes)', n(state.topPages)],
          ['elapsed', `${elapsed.toFixed(1)} s`],
          ['throughput', `${n(processed / Math.max(elapsed, 0.001))} clicks/s`],
          ['valid clicks per session', valid > 0 && state.sessions > 0 ? (valid / state.sessions).toFixed(2) : '-'],
          ['memory (RSS at the end)', `${n(rss)} MB`],
          ['peak memory (max RSS)', `${n(peakRss)} MB`],
          ['CPU (user + system)', `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`],
        ],
      )}\n`,
    );
    return 0;
  } finally {
    clearInterval(timer);
    view.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `npx tsx examples/demo.ts` runs this file under the tsx command line (`npm run demo` runs its
 * compiled copy under plain node: scripts/demo.mjs), which relays Ctrl-C to its child and
 * SIGKILLs it when the child has not acknowledged the signal within 30 ms: a demo whose event
 * loop is busy with a batch (or a garbage collection) would die without its summary. So, under
 * tsx, the demo runs in a child of its own and this process only waits (and forwards signals).
 */
function runOutsideTsxCli(): Promise<number> | undefined {
  if (process.env.TRIBUTARY_DEMO_CHILD === '1') return undefined;
  if (!process.execArgv.some((arg) => arg.includes('tsx') && arg.includes('preflight'))) return undefined;
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TRIBUTARY_DEMO_CHILD: '1' },
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + constants.signals[signal] : 1)));
  });
}

(runOutsideTsxCli() ?? main(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`\nerror: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
