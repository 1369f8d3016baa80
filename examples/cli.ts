/**
 * The example command line:
 *
 *   npm run example -- <clickstream|fraud|nexmark> --input FILE.jsonl --output-dir DIR [--partitions N]
 *                     [--kafka BROKERS] [--nats URL] [--topic-prefix P] [--resume] [--exactly-once]
 *   npm run example -- <clickstream|fraud|nexmark> --input FILE.jsonl --generate N --seed S
 *
 * Exit codes: 0 done, 1 the run failed, 2 a bad command line.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { CliUsageError, parseCliArgs, USAGE, type CliArgs } from './shared/cli-args.js';
import type { ExampleApp } from './shared/example-app.js';
import { loadExampleApp } from './shared/load-app.js';
import { ExampleUsageError, runExample, type RunProgress } from './shared/run-example.js';

const number = (n: number): string => n.toLocaleString('en-US');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function progressLine(app: string, p: RunProgress): string {
  return `[${app}] ${p.phase}: produced ${number(p.produced)}, processed ${number(p.processed)} records, ${seconds(p.elapsedMs)}`;
}

async function generate(app: ExampleApp, args: CliArgs): Promise<void> {
  const { count, seed } = args.generate!;
  if (!app.generate) throw new CliUsageError(`the ${app.name} app has no generator: --generate is not available for it`);
  await mkdir(dirname(args.input), { recursive: true });
  const out = createWriteStream(args.input, { encoding: 'utf8' });
  const started = performance.now();
  let lines = 0;
  for (const line of app.generate({ count, seed })) {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
    lines++;
  }
  out.end();
  await once(out, 'finish');
  process.stderr.write(`[${app.name}] wrote ${number(count)} records (${number(lines)} lines, seed ${seed}) to ${args.input} in ${seconds(performance.now() - started)}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof CliUsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const app = await loadExampleApp(args.app);
  if (args.generate) {
    await generate(app, args);
    return 0;
  }
  const result = await runExample({
    app,
    input: args.input,
    outputDir: args.outputDir!,
    partitions: args.partitions,
    kafkaBrokers: args.kafkaBrokers,
    natsUrl: args.natsUrl,
    topicPrefix: args.topicPrefix,
    resume: args.resume,
    exactlyOnce: args.exactlyOnce,
    onProgress: (p) => process.stderr.write(`${progressLine(app.name, p)}\n`),
    // A progress line a second; TRIBUTARY_EXAMPLE_PROGRESS_MS sets another interval (tests that kill a run mid-way).
    progressIntervalMs: process.env.TRIBUTARY_EXAMPLE_PROGRESS_MS ? Number(process.env.TRIBUTARY_EXAMPLE_PROGRESS_MS) : undefined,
  });
  const { summary } = result;
  const outputs = Object.entries(summary.outputs).map(([name, n]) => `${name} ${number(n)}`).join(', ');
  process.stderr.write(
    `[${app.name}] done in ${seconds(result.elapsedMs)}: ${number(summary.recordsIn)} records in, ${number(summary.deadLetters)} dead letters, ` +
      `${number(summary.late)} late, ${outputs}, ${number(summary.duplicates)} duplicates; files in ${args.outputDir}` +
      `${args.kafkaBrokers ? ` (topic prefix ${result.prefix})` : ''}\n`,
  );
  process.stderr.write(`[${app.name}] summary: ${join(args.outputDir!, 'summary.json')}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ExampleUsageError || err instanceof CliUsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
