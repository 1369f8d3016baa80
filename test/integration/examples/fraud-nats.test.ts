import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { BroadcastState } from '../../../src/cluster/broadcast.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { LateRecord } from '../../../src/streams/late-output.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { createFraudApp, FRAUD_CONFIG_BROADCAST, fraud, fraudCluster } from '../../../examples/fraud/app.js';
import { evaluateCard, type FraudAlert } from '../../../examples/fraud/card-rules.js';
import type { FraudConfigApplied } from '../../../examples/fraud/fraud-pipeline.js';
import { DEFAULT_FRAUD_CONFIG, FraudConfigSchema, resolveFraudConfig, type FraudConfig } from '../../../examples/fraud/fraud-config.js';
import { generateTransactions } from '../../../examples/fraud/generate.js';
import { TransactionSchema, type Transaction } from '../../../examples/fraud/transaction.js';
import { runExample } from '../../../examples/shared/run-example.js';
import { kafkaBrokers, natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';

const logger = createLogger({ level: 'silent' });
const PARTITIONS = 4;

/** Lower thresholds (none that sets how much history a card keeps is raised): more alerts. */
const STRICTER: FraudConfig = resolveFraudConfig({
  velocity: { count: 3 },
  amountSpike: { multiplier: 3 },
  cardTesting: { largeMin: 20_000, smallMax: 300 },
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const key = (a: FraudAlert): string => `${a.rule}|${a.cardId}|${a.txId}|${a.ts}`;
const sorted = (alerts: readonly FraudAlert[]): string[] => alerts.map(key).sort();

function parse(line: string): Transaction | undefined {
  try {
    const result = TransactionSchema.safeParse(JSON.parse(line));
    return result.success && !line.includes('__proto__') ? result.data : undefined;
  } catch {
    return undefined;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('fraud thresholds changed at runtime through the NATS broadcast', () => {
  let nc: NatsConnection;
  const clusters: string[] = [];
  let dir: string;

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl() });
    dir = await mkdtemp(join(tmpdir(), 'fraud-nats-'));
  });

  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    for (const c of clusters) await jsm.streams.delete(`KV_tributary-${c}-broadcast`).catch(() => undefined);
    await nc.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies new thresholds to the transactions read after every partition has them, and only to those', async () => {
    const cluster = uniqueName('fraud');
    clusters.push(cluster);
    const lines = generateTransactions({ records: 6_000, seed: 2024 });
    const firstHalf = lines.slice(0, 3_000);
    const secondHalf = lines.slice(3_000);

    const log = new MemoryLog();
    log.createTopic('transactions', PARTITIONS);
    const produce = (batch: readonly string[]) =>
      log.producer().send(
        'transactions',
        batch.map((line) => ({ key: parse(line)?.cardId ?? null, value: line })),
      );
    const applied: FraudConfigApplied[] = [];
    const alerts: FraudAlert[] = [];
    const late: string[] = [];
    const app = createTributary({
      log,
      logger,
      processors: createFraudApp({ cluster, onConfigApplied: (e) => void applied.push(e) }).processors({
        prefix: '',
        inputTopic: 'transactions',
        partitions: PARTITIONS,
        outOfOrdernessMs: 5_000,
        natsUrl: natsUrl(),
        sinks: {
          'fraud-alerts': toFunction('alerts', async (items: readonly FraudAlert[]) => void alerts.push(...items)),
          late: toFunction('late', async (items: readonly LateRecord<StreamRecord<unknown, Transaction>>[]) => void late.push(...items.map((l) => l.element.value.txId))),
        },
      }),
    });
    await app.start();
    // Nothing published yet: every partition starts with the base thresholds.
    await eventually(() => new Set(applied.map((e) => e.partition)).size === PARTITIONS, 10_000, 'every partition running');
    expect(applied.every((e) => e.revision === 0 && e.origin === 'base')).toBe(true);

    // First half, all taken in by the partitions.
    const taken = async (): Promise<number> =>
      (await app.metrics.recordsIn.get()).values.reduce((sum, v) => sum + v.value, 0);
    await produce(firstHalf);
    await eventually(async () => (await taken()) === firstHalf.length, 20_000, 'the first half taken in');

    // The change, from another node: every partition must have it before the second half.
    const operator = await BroadcastState.open<FraudConfig>({
      cluster,
      name: FRAUD_CONFIG_BROADCAST,
      schema: FraudConfigSchema,
      connection: nc,
      logger,
    });
    const revision = await operator.publish(STRICTER);
    await eventually(
      () => new Set(applied.filter((e) => e.revision === revision).map((e) => e.partition)).size === PARTITIONS,
      10_000,
      'every partition applying the new thresholds',
    );
    expect(applied.find((e) => e.revision === revision)?.config).toEqual(STRICTER);

    await produce(secondHalf);
    await app.finishInput({ timeoutMs: 60_000 });
    await app.stop();
    await operator.close();

    // The reference: first-half transactions under the defaults, second-half ones under STRICTER.
    const first = firstHalf.map(parse).filter((t): t is Transaction => t !== undefined);
    const second = secondHalf.map(parse).filter((t): t is Transaction => t !== undefined);
    const inSecond = new Set(second.map((t) => t.txId));
    const all = [...first, ...second];
    const configOf = (tx: Transaction): FraudConfig => (inSecond.has(tx.txId) ? STRICTER : DEFAULT_FRAUD_CONFIG);
    const expected = sorted(evaluateCard(all, configOf));
    expect(late).toEqual([]);
    expect(alerts.length).toBe(expected.length);
    expect(sorted(alerts)).toEqual(expected);

    // The change did matter, and only from the second half on.
    const allDefault = sorted(evaluateCard(all, DEFAULT_FRAUD_CONFIG));
    const allStricter = sorted(evaluateCard(all, STRICTER));
    expect(expected).not.toEqual(allDefault);
    expect(expected).not.toEqual(allStricter);
    const inFirst = (a: FraudAlert): boolean => !inSecond.has(a.txId);
    expect(sorted(alerts.filter(inFirst))).toEqual(sorted(evaluateCard(all, configOf).filter(inFirst)));
    expect(alerts.filter((a) => !inFirst(a)).length).toBeGreaterThan(evaluateCard(all, DEFAULT_FRAUD_CONFIG).filter((a) => !inFirst(a)).length);
  }, 120_000);

  it('on Kafka, a run started after the thresholds were published applies them to every transaction', async () => {
    const prefix = `${uniqueName('fraud')}-`;
    const cluster = fraudCluster(prefix);
    clusters.push(cluster);
    const operator = await BroadcastState.open<FraudConfig>({ cluster, name: FRAUD_CONFIG_BROADCAST, schema: FraudConfigSchema, connection: nc, logger });
    await operator.publish(STRICTER);
    await operator.close();

    const lines = generateTransactions({ records: 3_000, seed: 77 });
    const input = join(dir, 'kafka-in.jsonl');
    await writeFile(input, `${lines.join('\n')}\n`);
    const outputDir = join(dir, 'kafka-out');
    const { summary } = await runExample({
      app: fraud,
      input,
      outputDir,
      partitions: PARTITIONS,
      kafkaBrokers: kafkaBrokers(),
      natsUrl: natsUrl(),
      topicPrefix: prefix,
      logger,
    });
    const alerts = (await readFile(join(outputDir, 'fraud-alerts.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as FraudAlert);
    const valid = lines.map(parse).filter((t): t is Transaction => t !== undefined);
    expect(sorted(alerts)).toEqual(sorted(evaluateCard(valid, STRICTER)));
    expect(summary.deadLetters).toBe(lines.length - valid.length);
    expect(summary.late).toBe(0);
  }, 180_000);
});
