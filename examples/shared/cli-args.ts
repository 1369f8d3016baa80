import { parseArgs } from 'node:util';
import { EXAMPLE_APP_NAMES } from './load-app.js';

/** A bad command line: the message names the flag; the command line exits 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** The command line, parsed and checked. */
export interface CliArgs {
  readonly app: string;
  readonly input: string;
  readonly outputDir: string | undefined;
  readonly partitions: number | undefined;
  readonly kafkaBrokers: string[] | undefined;
  readonly natsUrl: string | undefined;
  readonly topicPrefix: string | undefined;
  readonly resume: boolean;
  /** `--exactly-once`: every processor with `guarantee: 'exactly-once'` (outputs in Kafka transactions). */
  readonly exactlyOnce: boolean;
  /** `--generate N --seed S`: write N generated records to `input` instead of running. */
  readonly generate: { readonly count: number; readonly seed: number } | undefined;
  readonly help: boolean;
}

export const USAGE = `usage: npm run example -- <${EXAMPLE_APP_NAMES.join('|')}> --input FILE.jsonl --output-dir DIR [--partitions N]
                          [--kafka BROKERS] [--nats URL] [--topic-prefix P] [--resume] [--exactly-once]
       npm run example -- <${EXAMPLE_APP_NAMES.join('|')}> --input FILE.jsonl --generate N --seed S

  --input FILE         one JSON object a line (with --generate: the file to write)
  --output-dir DIR     where <output>.jsonl, late.jsonl, dead-letter.jsonl, summary.json go
  --partitions N       partitions of every topic (default 4)
  --kafka BROKERS      run on Kafka, e.g. 127.0.0.1:9092[,host2:9092] (default: embedded MemoryLog)
  --nats URL           NATS for live results and runtime configuration, e.g. nats://127.0.0.1:4222
  --topic-prefix P     prefix of the run's topics and consumer groups (default: a fresh run id)
  --resume             with --kafka --topic-prefix P: continue a killed run from its committed offsets
  --exactly-once       every write in transactions with the input offsets: no duplicate output after a kill
  --generate N         write N generated input records to --input instead of running
  --seed S             the generator's seed (an integer)`;

const TOPIC_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new CliUsageError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

/**
 * Parses `npm run example -- <app> ...`. Unknown flags, missing values and bad values throw a
 * {@link CliUsageError} naming the flag.
 *
 * @example
 * parseCliArgs(['clickstream', '--input', 'clicks.jsonl', '--output-dir', 'out']);
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new CliUsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    return { app: '', input: '', outputDir: undefined, partitions: undefined, kafkaBrokers: undefined, natsUrl: undefined, topicPrefix: undefined, resume: false, exactlyOnce: false, generate: undefined, help: true };
  }
  if (positionals.length === 0) throw new CliUsageError(`name the app: one of ${EXAMPLE_APP_NAMES.join(', ')}`);
  if (positionals.length > 1) throw new CliUsageError(`one app at a time, got '${positionals.join("', '")}'`);
  const app = positionals[0];
  if (!EXAMPLE_APP_NAMES.includes(app)) throw new CliUsageError(`unknown app '${app}': use one of ${EXAMPLE_APP_NAMES.join(', ')}`);
  if (values.input === undefined || values.input === '') throw new CliUsageError('--input FILE is required');

  if (values.generate !== undefined || values.seed !== undefined) {
    if (values.generate === undefined) throw new CliUsageError('--seed goes with --generate N');
    if (values.seed === undefined) throw new CliUsageError('--generate needs --seed S');
    const seed = Number(values.seed);
    if (!/^-?\d+$/.test(values.seed) || !Number.isSafeInteger(seed)) throw new CliUsageError(`--seed must be an integer, got '${values.seed}'`);
    for (const flag of ['output-dir', 'partitions', 'kafka', 'nats', 'topic-prefix', 'resume', 'exactly-once'] as const) {
      if (values[flag] !== undefined) throw new CliUsageError(`--${flag} does not go with --generate (which only writes --input)`);
    }
    return {
      app, input: values.input, outputDir: undefined, partitions: undefined, kafkaBrokers: undefined, natsUrl: undefined,
      topicPrefix: undefined, resume: false, exactlyOnce: false, generate: { count: positiveInteger('--generate', values.generate), seed }, help: false,
    };
  }

  if (values['output-dir'] === undefined || values['output-dir'] === '') throw new CliUsageError('--output-dir DIR is required');
  const partitions = values.partitions === undefined ? undefined : positiveInteger('--partitions', values.partitions);
  let kafkaBrokers: string[] | undefined;
  if (values.kafka !== undefined) {
    kafkaBrokers = values.kafka.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
    const bad = kafkaBrokers.find((b) => !/^[^:\s]+:\d{1,5}$/.test(b));
    if (kafkaBrokers.length === 0 || bad !== undefined) throw new CliUsageError(`--kafka must be host:port[,host:port...], got '${values.kafka}'`);
  }
  if (values.nats !== undefined) {
    if (!/^(nats|tls|wss?):\/\/[^\s]+$|^[^\s:/]+:\d{1,5}$/.test(values.nats)) throw new CliUsageError(`--nats must be a NATS URL like nats://127.0.0.1:4222, got '${values.nats}'`);
  }
  const topicPrefix = values['topic-prefix'];
  if (topicPrefix !== undefined) {
    if (!TOPIC_PREFIX.test(topicPrefix)) throw new CliUsageError(`--topic-prefix must match ${TOPIC_PREFIX} (letters, digits, '.', '_', '-'), got '${topicPrefix}'`);
  }
  const resume = values.resume ?? false;
  if (resume && !kafkaBrokers) throw new CliUsageError('--resume needs --kafka: the embedded MemoryLog does not outlive its process');
  if (resume && topicPrefix === undefined) throw new CliUsageError('--resume needs --topic-prefix P: the prefix of the run to continue');
  return { app, input: values.input, outputDir: values['output-dir'], partitions, kafkaBrokers, natsUrl: values.nats, topicPrefix, resume, exactlyOnce: values['exactly-once'] ?? false, generate: undefined, help: false };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      input: { type: 'string' },
      'output-dir': { type: 'string' },
      partitions: { type: 'string' },
      kafka: { type: 'string' },
      nats: { type: 'string' },
      'topic-prefix': { type: 'string' },
      resume: { type: 'boolean' },
      'exactly-once': { type: 'boolean' },
      generate: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
