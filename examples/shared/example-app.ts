import type { ZodType } from 'zod';
import type { ProcessorDefinition, Sink } from 'tributary';

/**
 * What the example command line (`npm run example -- <app> ...`) needs from an example app.
 * Every app implements it; the command line does the rest (reading the input file, producing
 * it, dead letters, late records, reading outputs back, summary.json), identically for all.
 */
export interface ExampleApp {
  /** `clickstream`, `fraud` or `nexmark`. */
  readonly name: string;
  /**
   * The input topic's base name (`clicks`, `transactions`); the CLI adds a run prefix. With
   * several input topics ({@link inputTopics}): the one that takes the lines {@link topicOf}
   * cannot place (not a JSON object), so that they are dead-lettered there.
   */
  readonly inputTopic: string;
  /** Every input topic's base name, when there are several (nexmark: `persons`, `auctions`, `bids`). Default `[inputTopic]`. */
  readonly inputTopics?: readonly string[];
  /**
   * Which of {@link inputTopics} a line parsed as a JSON object goes to (a base name). Default:
   * always `inputTopic`. A throw or an unknown name sends the line to `inputTopic`.
   */
  readonly topicOf?: (record: Record<string, unknown>) => string;
  /** The input schema, exactly as the spec defines a valid record. */
  readonly schema: ZodType<unknown>;
  /** The input record's key (`userId`, `cardId`); `null` when it has none (the line is produced without a key). */
  readonly keyOf: (record: Record<string, unknown>) => string | null;
  /** Event time of a valid input record (`ts`). */
  readonly timestampOf: (record: Record<string, unknown>) => number;
  /** The output names, in order: each becomes `<name>.jsonl`. */
  readonly outputs: readonly string[];
  /**
   * The outputs that are tables (nexmark's `seller-totals`), with the key of a row: their topic
   * is the table's changelog (each row written with its key, several updates per key), and the
   * file holds the last row of each key, one line per key.
   */
  readonly tables?: Readonly<Record<string, (row: unknown) => string>>;
  /**
   * What `summary.json`'s `recordsIn` counts: `'lines'` (default), every non-blank input line;
   * `'valid'`, the lines that are not dead letters (nexmark: valid events of all three types).
   */
  readonly recordsIn?: 'lines' | 'valid';
  /**
   * The processors of this app, writing each output to the sink the CLI gives for it and late
   * input records (as read) to `sinks.late`.
   *
   * `sinks.late` takes the late input record as the pipeline saw it: preferably the
   * `StreamRecord` itself (its headers carry the input line number, so `late.jsonl` shows the
   * line exactly as read), or just its decoded value. It may be shared by several processors
   * (an app's repartition stages): the CLI's sinks tolerate several `start`/`stop` calls.
   */
  processors(options: ExampleRunOptions): ProcessorDefinition<string | null, unknown>[];
  /**
   * Optional: input lines for `--generate N --seed S` (one JSON object a line, with a small,
   * seeded share of malformed lines). Deterministic for a seed.
   */
  generate?(options: ExampleGenerateOptions): Iterable<string>;
}

/** What `--generate N --seed S` asks an app's generator for. */
export interface ExampleGenerateOptions {
  /** How many input records (non-blank lines) to generate. */
  readonly count: number;
  /** The seed: the same seed gives the same lines. */
  readonly seed: number;
}

/** How the CLI runs an example app. */
export interface ExampleRunOptions {
  /** Prefix of every topic and consumer group of this run (`run-<id>-` on Kafka, empty on the embedded log). */
  readonly prefix: string;
  /** The input topic (prefixed). */
  readonly inputTopic: string;
  /** Every input topic, by base name, prefixed (an app with {@link ExampleApp.inputTopics}). Default: `{ [base]: prefix + base }`. */
  readonly inputTopics?: Readonly<Record<string, string>>;
  /** Partitions of every topic the app creates. */
  readonly partitions: number;
  /** Bounded out-of-orderness, ms. Default 5,000. */
  readonly outOfOrdernessMs: number;
  /** One sink per output name, plus `late`. */
  readonly sinks: Readonly<Record<string, Sink<unknown>>>;
  /** NATS URL when the app should take runtime configuration from NATS (fraud thresholds). */
  readonly natsUrl?: string;
}
