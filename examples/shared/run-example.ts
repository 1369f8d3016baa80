import { randomBytes } from 'node:crypto';
import {
  createLogger,
  createTributary,
  DeadLetterHeaders,
  expandStages,
  KafkaConnector,
  MemoryLog,
  type LogConnector,
  type Logger,
  type ProcessorDefinition,
  type Sink,
  type Tributary,
} from 'tributary';
import type { ExampleApp } from './example-app.js';
import { countInputRecords, LINE_HEADER, readInputLines, type InputLine } from './input-lines.js';
import { writeOutputFiles, type RunSummary } from './output-files.js';
import { MAX_INPUT_RECORD_BYTES, produceInput } from './produce-input.js';
import { readTopics } from './read-topics.js';
import { deadLetterTopicOf, topicsWritten } from './topics-written.js';
import { lateSink, outputSink } from './result-sinks.js';

/** Options of {@link runExample}: the command line's flags. */
export interface RunExampleOptions {
  readonly app: ExampleApp;
  /** `--input`: one JSON object a line. */
  readonly input: string;
  /** `--output-dir`: created if missing. */
  readonly outputDir: string;
  /** `--partitions`: of the input topic and every topic the app creates. Default 4 (on `--resume`: the input topic's). */
  readonly partitions?: number;
  /** `--kafka`: run on these brokers instead of the embedded MemoryLog. */
  readonly kafkaBrokers?: readonly string[];
  /** `--nats`: handed to the app (live results, runtime configuration). */
  readonly natsUrl?: string;
  /** `--topic-prefix`: prefix of every topic and consumer group. Default: `run-<id>-` on Kafka, none embedded. */
  readonly topicPrefix?: string;
  /**
   * `--resume`: (Kafka, with `topicPrefix`) continue a killed run: do not produce the input again
   * (only lines it had not produced yet, if it died while producing); the groups continue from
   * their committed offsets; the files are written from everything in the output topics.
   */
  readonly resume?: boolean;
  /**
   * `--exactly-once`: every processor (and its repartition stages) with `guarantee:
   * 'exactly-once'`: a run killed and resumed writes no output twice.
   */
  readonly exactlyOnce?: boolean;
  /** Bounded out-of-orderness, ms. Default 5,000. */
  readonly outOfOrdernessMs?: number;
  /** Default: pino at `TRIBUTARY_LOG_LEVEL`, else `error` (the run reports its own progress). */
  readonly logger?: Logger;
  /** Called about every `progressIntervalMs` and when the phase changes. */
  readonly onProgress?: (progress: RunProgress) => void;
  /** Default 1,000 ms. */
  readonly progressIntervalMs?: number;
  /** Longest wait for the app to catch up with its input. Default 600,000 ms. */
  readonly finishTimeoutMs?: number;
  /** Called with the running app right after it started (the demo watches its lifecycle). */
  readonly onStarted?: (app: Tributary) => void;
}

/** Where a run is. */
export interface RunProgress {
  readonly phase: 'starting' | 'producing' | 'finishing' | 'reading' | 'done';
  /** Input records produced by this run (on `--resume`, only those the killed run had not produced). */
  readonly produced: number;
  /** Input records the app's first stage has taken in. */
  readonly processed: number;
  readonly elapsedMs: number;
}

/** What {@link runExample} did. */
export interface RunResult {
  readonly summary: RunSummary;
  /** The prefix of the run's topics and groups (`--topic-prefix P --resume` continues it). */
  readonly prefix: string;
  readonly elapsedMs: number;
}

/** A problem with the options of a run, reported as is (the command line exits 2). */
export class ExampleUsageError extends Error {
  override readonly name = 'ExampleUsageError';
}

/** A fresh run prefix: `run-<time>-<random>-`, valid for Kafka topics and groups. */
export function newRunPrefix(): string {
  return `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-`;
}

/**
 * Runs an example app over an input file, as `npm run example` does, and writes the output
 * files: each line of the input is produced to the app's input topic (or, for an app with
 * several, the one its `topicOf` names) as is, keyed by the app's key, with its line number in
 * a header; the app runs until every window has fired
 * (`finishInput`); then every output topic, the late topic and the dead-letter topics are read
 * back into `<output>.jsonl`, `late.jsonl`, `dead-letter.jsonl` and `summary.json`.
 *
 * A line over 1,000,000 bytes (key + value) is not produced (Kafka would refuse it): it is
 * written straight to the first stage's dead-letter topic, with reason `oversized`.
 *
 * @example
 * const { summary } = await runExample({ app: clickstream, input: 'clicks.jsonl', outputDir: 'out', partitions: 4 });
 * console.log(summary.outputs['page-views']);
 */
export async function runExample(options: RunExampleOptions): Promise<RunResult> {
  const started = performance.now();
  const { app: example, input } = options;
  const onKafka = options.kafkaBrokers !== undefined && options.kafkaBrokers.length > 0;
  if (options.resume && !onKafka) throw new ExampleUsageError('--resume needs --kafka: the embedded MemoryLog does not outlive its process');
  if (options.resume && options.topicPrefix === undefined) throw new ExampleUsageError('--resume needs --topic-prefix P: the prefix of the run to continue');
  if (options.partitions !== undefined && (!Number.isSafeInteger(options.partitions) || options.partitions < 1)) {
    throw new ExampleUsageError(`--partitions must be a positive integer, got ${options.partitions}`);
  }
  const prefix = options.topicPrefix ?? (onKafka ? newRunPrefix() : '');
  const logger = options.logger ?? createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'error' });
  const log: LogConnector = onKafka
    ? new KafkaConnector(
        {
          brokers: [...options.kafkaBrokers],
          clientId: `tributary-example-${example.name}`,
          // A killed run's members hold their partitions until their session times out: keep that
          // short so that --resume gets them back within ~10 s rather than 30 s.
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 1_000,
        },
        // kafkajs logs expected conditions (a topic not there yet, retries) as errors: the run
        // reports its own failures, so its client only speaks when asked (TRIBUTARY_LOG_LEVEL).
        options.logger || process.env.TRIBUTARY_LOG_LEVEL ? logger : logger.child({}, { level: 'fatal' }),
      )
    : new MemoryLog();
  const inputTopic = `${prefix}${example.inputTopic}`;
  const inputBases = example.inputTopics ?? [example.inputTopic];
  const inputTopics: Record<string, string> = Object.fromEntries(inputBases.map((base) => [base, `${prefix}${base}`]));
  const allInputTopics = Object.values(inputTopics);
  const topicOf = example.topicOf
    ? (record: Record<string, unknown>): string | undefined => inputTopics[example.topicOf!(record)]
    : undefined;
  let phase: RunProgress['phase'] = 'starting';
  let produced = 0;
  let app: Tributary | undefined;
  let firstStage: string | undefined;
  const processed = async (): Promise<number> => {
    if (!app || !firstStage) return 0;
    const metric = await app.metrics.recordsIn.get();
    return metric.values.filter((v) => v.labels.processor === firstStage).reduce((sum, v) => sum + v.value, 0);
  };
  const report = async (): Promise<void> => {
    options.onProgress?.({ phase, produced, processed: await processed(), elapsedMs: performance.now() - started });
  };
  const enter = async (next: RunProgress['phase']): Promise<void> => {
    phase = next;
    await report();
  };
  const timer = options.onProgress ? setInterval(() => void report(), options.progressIntervalMs ?? 1_000) : undefined;
  timer?.unref();

  try {
    // Topics: the input (its partition count is the run's on --resume), the outputs, late.
    const admin = log.admin();
    let partitions: number;
    try {
      // A fresh run prefix names no existing topic (and asking Kafka about a missing one logs an error).
      const existing = options.topicPrefix === undefined ? undefined : await admin.partitionCount(inputTopic);
      if (options.resume) {
        if (existing === undefined) {
          throw new ExampleUsageError(`--resume: the input topic ${inputTopic} does not exist: no run with --topic-prefix ${prefix} on this broker`);
        }
        if (options.partitions !== undefined && options.partitions !== existing) {
          throw new ExampleUsageError(`--partitions ${options.partitions} does not match the run being resumed (${inputTopic} has ${existing})`);
        }
        partitions = existing;
      } else {
        if (existing !== undefined) {
          throw new ExampleUsageError(`topic ${inputTopic} already exists: use a fresh --topic-prefix, or add --resume to continue that run`);
        }
        partitions = options.partitions ?? 4;
      }
      await admin.ensureTopics(allInputTopics.map((name) => ({ name, partitions })));
    } finally {
      await admin.close();
    }
    const sinks: Record<string, Sink<unknown>> = { late: lateSink(`${prefix}late`, partitions) };
    for (const name of example.outputs) sinks[name] = outputSink(`${prefix}${name}`, partitions, example.tables?.[name]);
    const defined = example.processors({
      prefix,
      inputTopic,
      inputTopics,
      partitions,
      outOfOrdernessMs: options.outOfOrdernessMs ?? 5_000,
      sinks,
      natsUrl: options.natsUrl,
    });
    const processors = options.exactlyOnce ? defined.map((p): ProcessorDefinition<string | null, unknown> => ({ ...p, guarantee: 'exactly-once' })) : defined;
    const stages = processors.flatMap((p) => expandStages(p) as ProcessorDefinition<unknown, unknown>[]);
    const source = stages.find((s) => (typeof s.source.topics === 'string' ? [s.source.topics] : s.source.topics).includes(inputTopic));
    const unread = allInputTopics.filter((t) => !stages.some((s) => (typeof s.source.topics === 'string' ? [s.source.topics] : s.source.topics).includes(t)));
    if (unread.length > 0) throw new Error(`${example.name}: no processor reads the input topic${unread.length > 1 ? 's' : ''} ${unread.join(', ')}`);
    if (!source) throw new Error(`${example.name}: no processor reads the input topic ${inputTopic}`);
    firstStage = source.id;
    const sourceDeadLetters = deadLetterTopicOf(source);
    const deadLetterTopics = [...new Set(stages.map(deadLetterTopicOf))];
    // Created now rather than by the sinks at start: with room for large batches (see TOPIC_CONFIG).
    const setup = log.admin();
    try {
      await setup.ensureTopics(topicsWritten(stages, [...example.outputs.map((o) => `${prefix}${o}`), `${prefix}late`], partitions));
    } finally {
      await setup.close();
    }

    app = createTributary({ log, logger, processors });
    await app.start();
    options.onStarted?.(app);

    // The input, in file order. On --resume only the lines the killed run had not produced yet
    // (usually none): each partition then holds its lines in file order, as in an uninterrupted run.
    await enter('producing');
    const present = options.resume ? await linesAlreadyIn(log, allInputTopics, sourceDeadLetters, prefix) : undefined;
    const producer = log.producer();
    try {
      await produceInput({
        producer,
        topic: inputTopic,
        topicOf,
        lines: readInputLines(input),
        keyOf: example.keyOf,
        only: present && ((lineNumber) => !present.has(lineNumber)),
        onProgress: (n) => (produced = n),
        // Too large for the log: dead-lettered here, as the first stage would have done.
        onOversized: (line: InputLine, bytes: number) =>
          producer.send(sourceDeadLetters, [
            {
              key: null,
              value: null,
              headers: {
                [LINE_HEADER]: String(line.lineNumber),
                [DeadLetterHeaders.error]: `record of ${bytes} bytes exceeds the ${MAX_INPUT_RECORD_BYTES}-byte limit of an input record (not produced)`,
                [DeadLetterHeaders.reason]: 'oversized',
                [DeadLetterHeaders.topic]: inputTopic,
                [DeadLetterHeaders.partition]: '-1',
                [DeadLetterHeaders.offset]: '-1',
                [DeadLetterHeaders.attempts]: '0',
                [DeadLetterHeaders.processor]: source.id,
              },
            },
          ]),
      });
    } finally {
      await producer.close();
    }
    if (present && produced > 0) {
      logger.warn({ produced }, 'resume: produced the input lines the killed run had not');
      options.onProgress?.({ phase, produced, processed: await processed(), elapsedMs: performance.now() - started });
    }

    await enter('finishing');
    await app.finishInput({ timeoutMs: options.finishTimeoutMs ?? 600_000 });
    await app.stop();

    await enter('reading');
    const read = await readTopics(log, [...example.outputs.map((o) => `${prefix}${o}`), `${prefix}late`, ...deadLetterTopics], {
      groupId: `${prefix}reader-${randomBytes(4).toString('hex')}`,
    });
    const summary = await writeOutputFiles({
      outputDir: options.outputDir,
      input,
      recordsIn: await countInputRecords(input),
      recordsInCounts: example.recordsIn,
      outputs: new Map(example.outputs.map((o) => [o, read.get(`${prefix}${o}`) ?? []])),
      tables: new Set(Object.keys(example.tables ?? {})),
      late: read.get(`${prefix}late`) ?? [],
      deadLetters: deadLetterTopics.flatMap((t) => read.get(t) ?? []),
    });
    await enter('done');
    return { summary, prefix, elapsedMs: performance.now() - started };
  } catch (err) {
    await app?.stop().catch(() => undefined);
    throw err;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/**
 * On `--resume`: the line numbers already in the input topic, or already dead-lettered by the
 * command line as too large, so that a run killed while producing is completed, not repeated.
 */
async function linesAlreadyIn(log: LogConnector, inputTopics: readonly string[], deadLetterTopic: string, prefix: string): Promise<Set<number>> {
  const read = await readTopics(log, [...inputTopics, deadLetterTopic], { groupId: `${prefix}resume-reader-${randomBytes(4).toString('hex')}` });
  const present = new Set<number>();
  for (const record of [...inputTopics, deadLetterTopic].flatMap((t) => read.get(t) ?? [])) {
    const line = Number(String(record.headers[LINE_HEADER] ?? ''));
    if (Number.isSafeInteger(line) && line > 0) present.add(line);
  }
  return present;
}
