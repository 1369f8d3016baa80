import type { Observable } from 'rxjs';
import { ConfigError, defineProcessor, json, type ProcessorDefinition, type Sink, type SinkContext, type StreamRecord } from 'tributary';
import type { ExampleApp, ExampleGenerateOptions, ExampleRunOptions } from '../shared/example-app.js';
import type { FraudAlert } from './card-rules.js';
import { BroadcastFraudConfig, type FraudConfigSource } from './config-source.js';
import { resolveFraudConfig, type FraudConfig, type FraudConfigOverrides } from './fraud-config.js';
import { detectFraud, type FraudConfigApplied } from './fraud-pipeline.js';
import { generateTransactions } from './generate.js';
import { TransactionSchema, type Transaction } from './transaction.js';

/**
 * The output of the fraud app.
 *
 * @example
 * const sinks = { [FRAUD_ALERTS]: alertsSink, late: lateSink };
 */
export const FRAUD_ALERTS = 'fraud-alerts';

/**
 * The name of the thresholds' broadcast: `tributary.<cluster>.broadcast.fraud-config`.
 *
 * @example
 * await BroadcastState.open({ cluster: 'shop1', name: FRAUD_CONFIG_BROADCAST, schema: FraudConfigSchema, servers });
 */
export const FRAUD_CONFIG_BROADCAST = 'fraud-config';

/**
 * Options of {@link createFraudApp}.
 *
 * @example
 * const app = createFraudApp({ config: { velocity: { count: 3 } }, historyTtlMs: 30 * 86_400_000 });
 */
export interface FraudAppOptions {
  /** Thresholds over the spec's defaults; in force until (and unless) a value is published over NATS. */
  readonly config?: FraudConfigOverrides;
  /** See {@link DetectFraudOptions.historyTtlMs}. Default `Infinity`. */
  readonly historyTtlMs?: number;
  /**
   * The broadcast namespace with `--nats`. Default: {@link fraudCluster} of the run's prefix,
   * so each run (or `--topic-prefix P`) has thresholds of its own.
   */
  readonly cluster?: string;
  /** Called each time a partition starts applying a configuration (for tests and dashboards). */
  readonly onConfigApplied?: (event: FraudConfigApplied) => void;
}

/**
 * The fraud example app, with its input generator.
 *
 * @example
 * const lines = fraud.generate({ count: 1_000, seed: 7 });
 */
export interface FraudExampleApp extends ExampleApp {
  /** The thresholds in force when nothing was published over NATS. */
  readonly baseConfig: FraudConfig;
  /** `--generate N --seed S`: N input lines (see {@link generateTransactions}). */
  generate(options: ExampleGenerateOptions): string[];
}

/**
 * The broadcast cluster of a run: its topic prefix without trailing separators, characters
 * other than `[A-Za-z0-9_-]` replaced by `-`; `default` for an empty prefix. With
 * `--topic-prefix shop1-` the thresholds are at `tributary.shop1.broadcast.fraud-config`.
 *
 * @example
 * fraudCluster('run-k3x9-'); // 'run-k3x9'
 */
export function fraudCluster(prefix: string): string {
  const cleaned = prefix.replace(/[^A-Za-z0-9_-]/g, '-').replace(/[-_]+$/, '');
  return cleaned.length > 0 ? cleaned : 'default';
}

/**
 * The fraud-detection example (input topic `transactions` keyed by `cardId`, output
 * `fraud-alerts`): the four rules of the spec over each card's transactions in event-time
 * order. With `natsUrl`, thresholds come from a NATS broadcast and change at runtime.
 *
 * @example
 * const app = createFraudApp({ config: { velocity: { count: 3 } } });
 * const processors = app.processors({ prefix: '', inputTopic: 'transactions', partitions: 4,
 *   outOfOrdernessMs: 5_000, sinks: { 'fraud-alerts': alertsSink, late: lateSink } });
 */
export function createFraudApp(options: FraudAppOptions = {}): FraudExampleApp {
  const baseConfig = resolveFraudConfig(options.config ?? {});
  if (options.cluster !== undefined && !/^[A-Za-z0-9_-]+$/.test(options.cluster)) {
    throw new ConfigError('fraud.cluster', `must match /^[A-Za-z0-9_-]+$/, got ${JSON.stringify(options.cluster)}`);
  }
  return {
    name: 'fraud',
    inputTopic: 'transactions',
    schema: TransactionSchema,
    keyOf: (record) => record.cardId as string,
    timestampOf: (record) => record.ts as number,
    outputs: [FRAUD_ALERTS],
    baseConfig,
    generate: ({ count, seed }) => generateTransactions({ records: count, seed }),
    processors(run: ExampleRunOptions): ProcessorDefinition<string | null, unknown>[] {
      const alertsSink = run.sinks[FRAUD_ALERTS];
      if (!alertsSink) throw new ConfigError(`fraud.sinks.${FRAUD_ALERTS}`, 'the run gives no sink for the fraud-alerts output');
      let config: FraudConfig | FraudConfigSource = baseConfig;
      let sink: Sink<unknown> = alertsSink;
      if (run.natsUrl !== undefined) {
        const broadcast = new BroadcastFraudConfig({
          servers: run.natsUrl,
          cluster: options.cluster ?? fraudCluster(run.prefix),
          name: FRAUD_CONFIG_BROADCAST,
          base: baseConfig,
        });
        config = broadcast;
        // Sinks start before any partition is consumed: the thresholds are read by then.
        sink = alongside(alertsSink, (context) => broadcast.open(context.logger), () => broadcast.close());
      }
      const processor = defineProcessor<string | null, Transaction>({
        id: `${run.prefix}fraud`,
        source: { topics: run.inputTopic, value: json({ schema: TransactionSchema }), timestamp: (r) => r.value.ts },
        eventTime: { outOfOrdernessMs: run.outOfOrdernessMs },
        pipeline: (records, context): Record<string, Observable<FraudAlert>> => ({
          [FRAUD_ALERTS]: (records as Observable<StreamRecord<unknown, Transaction>>).pipe(
            detectFraud({ context, config, historyTtlMs: options.historyTtlMs, onConfigApplied: options.onConfigApplied }),
          ),
        }),
        sinks: { [FRAUD_ALERTS]: sink, ...(run.sinks.late ? { late: run.sinks.late } : {}) },
      });
      return [processor as ProcessorDefinition<string | null, unknown>];
    },
  };
}

/** `sink`, also starting and stopping something that must live as long as it (the NATS broadcast). */
function alongside<T>(sink: Sink<T>, start: (context: SinkContext) => Promise<void>, stop: () => Promise<void>): Sink<T> {
  return {
    name: sink.name,
    async start(context) {
      await start(context);
      await sink.start?.(context);
    },
    write: (items) => sink.write(items),
    // With --exactly-once: the alerts go in the partition's transactions.
    ...(sink.encode ? { encode: sink.encode } : {}),
    async stop() {
      try {
        await sink.stop?.();
      } finally {
        await stop();
      }
    },
  };
}

/**
 * The fraud example with the spec's thresholds: what `npm run example -- fraud` runs.
 *
 * @example
 * await runExample({ app: fraud, input: 'tx.jsonl', outputDir: 'out' });
 */
export const fraud: FraudExampleApp = createFraudApp();

export default fraud;
