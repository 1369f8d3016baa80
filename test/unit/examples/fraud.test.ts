import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { createActor } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { ProcessorDefinition } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { LateRecord } from '../../../src/streams/late-output.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { createFraudApp, fraud } from '../../../examples/fraud/app.js';
import { CardRules, evaluateCard, exceedsMean, Retention, type FraudAlert } from '../../../examples/fraud/card-rules.js';
import { cardTestingMachine } from '../../../examples/fraud/card-testing-machine.js';
import { DEFAULT_FRAUD_CONFIG, resolveFraudConfig, type FraudConfig } from '../../../examples/fraud/fraud-config.js';
import { generateTransactions } from '../../../examples/fraud/generate.js';
import { TransactionSchema, type Transaction } from '../../../examples/fraud/transaction.js';
import { runExample } from '../../../examples/shared/run-example.js';

const logger = createLogger({ level: 'silent' });
const BOUND = 5_000;

// ---------------------------------------------------------------------------------------------
// The reference: the spec read literally, as plain loops over each card's sorted transactions.
// ---------------------------------------------------------------------------------------------

function referenceAlerts(transactions: readonly Transaction[], configOf: (tx: Transaction) => FraudConfig): FraudAlert[] {
  const cards = new Map<string, Transaction[]>();
  for (const tx of transactions) {
    const list = cards.get(tx.cardId) ?? [];
    list.push(tx);
    cards.set(tx.cardId, list);
  }
  const alerts: FraudAlert[] = [];
  for (const [cardId, list] of cards) {
    const txs = [...list].sort((a, b) => (a.ts !== b.ts ? a.ts - b.ts : a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0));
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i];
      const c = configOf(tx);
      const fire = (rule: FraudAlert['rule']): void => void alerts.push({ rule, cardId, txId: tx.txId, ts: tx.ts });
      // velocity: at least the count-th (itself included, in order) with ts in (ts - window, ts]
      let inWindow = 0;
      for (let j = 0; j <= i; j++) if (txs[j].ts > tx.ts - c.velocity.windowMs && txs[j].ts <= tx.ts) inWindow++;
      if (inWindow >= c.velocity.count) fire('velocity');
      // amount-spike, in BigInt
      const n = Math.min(i, c.amountSpike.history);
      if (i >= c.amountSpike.minEarlier && n > 0) {
        let sum = 0n;
        for (let j = i - n; j < i; j++) sum += BigInt(txs[j].amount);
        if (BigInt(tx.amount) * BigInt(n) > BigInt(c.amountSpike.multiplier) * sum) fire('amount-spike');
      }
      // impossible-travel
      if (i > 0 && txs[i - 1].country !== tx.country && tx.ts - txs[i - 1].ts <= c.impossibleTravel.windowMs) fire('impossible-travel');
      // card-testing: an earlier small one (small by its own thresholds) at another merchant
      if (tx.amount >= c.cardTesting.largeMin) {
        let tested = false;
        for (let j = 0; j < i && !tested; j++) {
          const s = txs[j];
          tested = s.amount <= configOf(s).cardTesting.smallMax && s.merchant !== tx.merchant && tx.ts - s.ts <= c.cardTesting.windowMs;
        }
        if (tested) fire('card-testing');
      }
    }
  }
  return alerts;
}

const key = (a: FraudAlert): string => `${a.rule}|${a.cardId}|${a.txId}|${a.ts}`;
const sorted = (alerts: readonly FraudAlert[]): string[] => alerts.map(key).sort();

/** Validity as the spec words it, checked independently of the app's zod schema and JSON parser. */
function referenceParse(line: string): Transaction | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const forbidden = (v: unknown): boolean =>
    typeof v === 'object' && v !== null && (Object.prototype.hasOwnProperty.call(v, '__proto__') || Object.values(v).some(forbidden));
  if (typeof value !== 'object' || value === null || Array.isArray(value) || forbidden(value)) return undefined;
  const r = value as Record<string, unknown>;
  for (const f of ['txId', 'cardId', 'merchant', 'country']) if (typeof r[f] !== 'string') return undefined;
  for (const f of ['amount', 'ts']) if (!Number.isSafeInteger(r[f])) return undefined;
  return r as unknown as Transaction;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

/** Thresholds small enough that random transactions hit them, and exactly on them, often. */
const smallConfig: fc.Arbitrary<FraudConfig> = fc.record({
  velocity: fc.record({ count: fc.integer({ min: 1, max: 5 }), windowMs: fc.integer({ min: 0, max: 12 }) }),
  amountSpike: fc.record({
    minEarlier: fc.integer({ min: 0, max: 4 }),
    history: fc.integer({ min: 1, max: 5 }),
    multiplier: fc.integer({ min: 1, max: 4 }),
  }),
  impossibleTravel: fc.record({ windowMs: fc.integer({ min: 0, max: 12 }) }),
  cardTesting: fc.record({
    largeMin: fc.integer({ min: 0, max: 12 }),
    smallMax: fc.integer({ min: 0, max: 12 }),
    windowMs: fc.integer({ min: 0, max: 12 }),
  }),
});

/** Transactions of a few cards in a short time span: many ties on ts, many values at a threshold. */
function transactionsArb(amount: fc.Arbitrary<number>, ts: fc.Arbitrary<number>): fc.Arbitrary<Transaction[]> {
  return fc
    .array(
      fc.record({
        cardId: fc.constantFrom('c1', 'c2', 'c3'),
        amount,
        merchant: fc.constantFrom('m1', 'm2', 'm3'),
        country: fc.constantFrom('FR', 'DE'),
        ts,
        tie: fc.integer({ min: 0, max: 99 }),
      }),
      { maxLength: 60 },
    )
    .map((raw) =>
      // unique txIds whose order is unrelated to the generation order
      raw.map(({ tie, ...tx }, i) => ({ ...tx, txId: `t${String(tie).padStart(2, '0')}-${i}` })),
    );
}

const SPEC_EDGES = [0, 1, 199, 200, 201, 1_000, 4_999, 5_000, 5_001, 49_999, 50_000, 50_001];

/** Timelines around the spec's windows: consecutive gaps of 0, 1 ms and each window ± 1 ms. */
const specTimeline: fc.Arbitrary<Transaction[]> = fc
  .array(
    fc.record({
      cardId: fc.constantFrom('c1', 'c2'),
      amount: fc.oneof(fc.constantFrom(...SPEC_EDGES), fc.integer({ min: -1_000, max: 300_000 })),
      merchant: fc.constantFrom('m1', 'm2', 'm3'),
      country: fc.constantFrom('FR', 'DE', 'JP'),
      gap: fc.constantFrom(0, 1, 2, 14_999, 15_000, 15_001, 59_999, 60_000, 60_001, 599_999, 600_000, 600_001, 3_599_999, 3_600_000, 3_600_001),
      tie: fc.integer({ min: 0, max: 9 }),
    }),
    { maxLength: 80 },
  )
  .map((raw) => {
    let ts = 1_700_000_000_000;
    return raw.map(({ gap, tie, ...tx }, i) => {
      ts += gap;
      return { ...tx, ts, txId: `t${tie}-${i}` };
    });
  });

// ---------------------------------------------------------------------------------------------
// (a) the rules as pure functions
// ---------------------------------------------------------------------------------------------

describe('the fraud rules as pure functions', () => {
  it('give exactly the alerts of a plain loop over each card’s sorted transactions, with the spec’s thresholds', () => {
    fc.assert(
      fc.property(specTimeline, (txs) => {
        expect(sorted(evaluateCard(txs, DEFAULT_FRAUD_CONFIG))).toEqual(sorted(referenceAlerts(txs, () => DEFAULT_FRAUD_CONFIG)));
      }),
      { numRuns: 500 },
    );
  });

  it('give exactly the reference’s alerts with any thresholds, including ties on ts and values exactly at a threshold', () => {
    fc.assert(
      fc.property(smallConfig, transactionsArb(fc.integer({ min: -2, max: 14 }), fc.integer({ min: 0, max: 40 })), (config, txs) => {
        expect(sorted(evaluateCard(txs, config))).toEqual(sorted(referenceAlerts(txs, () => config)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('judge each transaction by its own thresholds when they differ from one transaction to the next', () => {
    fc.assert(
      fc.property(
        fc.array(smallConfig, { minLength: 1, maxLength: 3 }),
        transactionsArb(fc.integer({ min: -2, max: 14 }), fc.integer({ min: 0, max: 40 })),
        fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        (configs, txs, choice) => {
          const configOf = new Map(txs.map((tx, i) => [tx.txId, configs[choice[i] % configs.length]]));
          const of = (tx: Transaction): FraudConfig => configOf.get(tx.txId)!;
          expect(sorted(evaluateCard(txs, of))).toEqual(sorted(referenceAlerts(txs, of)));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('compare amounts exactly in integers, beyond 2^53 too', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(exceedsMean(max, [max, max, max], 3, 1)).toBe(false); // equal: not more
    expect(exceedsMean(max, [max - 1, max, max], 3, 1)).toBe(true); // one less in the sum
    expect(exceedsMean(5_000, [1_000, 1_000, 1_000], 3, 5)).toBe(false);
    expect(exceedsMean(5_001, [1_000, 1_000, 1_000], 3, 5)).toBe(true);
    fc.assert(
      fc.property(fc.array(fc.maxSafeInteger(), { minLength: 1, maxLength: 20 }), fc.maxSafeInteger(), fc.integer({ min: 1, max: 1_000 }), (amounts, amount, k) => {
        const sum = amounts.reduce((s, a) => s + BigInt(a), 0n);
        expect(exceedsMean(amount, amounts, amounts.length, k)).toBe(BigInt(amount) * BigInt(amounts.length) > BigInt(k) * sum);
      }),
    );
  });

  it('keep a bounded state per card and hold only the offsets of the transactions it keeps', () => {
    fc.assert(
      fc.property(smallConfig, transactionsArb(fc.integer({ min: -2, max: 14 }), fc.integer({ min: 0, max: 400 })), (config, txs) => {
        const live = new Map<number, number>();
        const hold = (offset: number): (() => void) => {
          live.set(offset, (live.get(offset) ?? 0) + 1);
          let released = false;
          return () => {
            expect(released).toBe(false);
            released = true;
            live.set(offset, live.get(offset)! - 1);
            if (live.get(offset) === 0) live.delete(offset);
          };
        };
        const retention = new Retention(config);
        const card = new CardRules('c1', { hold });
        const ordered = txs.filter((t) => t.cardId === 'c1').sort((a, b) => a.ts - b.ts || (a.txId < b.txId ? -1 : 1));
        const bound = config.amountSpike.history + (config.velocity.count - 1) + 1 + 2;
        ordered.forEach((tx, offset) => {
          card.evaluate(tx, config, retention, offset);
          expect(live.size).toBeLessThanOrEqual(bound);
        });
        card.rest();
        expect(live.size).toBeLessThanOrEqual(config.amountSpike.history);
        expect(card.watching).toBe(false);
        card.close();
        expect(live.size).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the card-testing machine', () => {
  const limits = { largeMin: 50_000, smallMax: 200, windowMs: 600_000, retainMs: 600_000 };
  const tx = (txId: string, ts: number, amount: number, merchant: string) => ({ type: 'card.tx' as const, txId, ts, amount, merchant, ...limits });

  it('arms on a small transaction, fires on a large one elsewhere within the window, and returns to idle when the small ones are too old', () => {
    const actor = createActor(cardTestingMachine).start();
    const alerts: string[] = [];
    actor.on('card-testing.alert', (a) => void alerts.push(a.txId));
    expect(actor.getSnapshot().value).toBe('idle');
    actor.send(tx('t1', 0, 150, 'kiosk'));
    expect(actor.getSnapshot().value).toEqual({ watching: 'armed' });
    actor.send(tx('t2', 10_000, 90_000, 'kiosk')); // same merchant: not a card test
    expect(actor.getSnapshot().value).toEqual({ watching: 'armed' });
    actor.send(tx('t3', 600_000, 50_000, 'jeweller')); // exactly 600,000 ms later
    expect(actor.getSnapshot().value).toEqual({ watching: 'fired' });
    actor.send(tx('t4', 600_001, 50_000, 'jeweller')); // 600,001 ms: too late
    expect(actor.getSnapshot().value).toBe('idle');
    expect(alerts).toEqual(['t3']);
    actor.stop();
  });

  it('remembers the latest small transaction at another merchant than the latest one, so two entries answer exactly', () => {
    const actor = createActor(cardTestingMachine).start();
    const alerts: string[] = [];
    actor.on('card-testing.alert', (a) => void alerts.push(a.txId));
    actor.send(tx('s1', 0, 100, 'a'));
    actor.send(tx('s2', 1_000, 100, 'b'));
    actor.send(tx('s3', 2_000, 100, 'b'));
    expect(actor.getSnapshot().context.latest?.txId).toBe('s3');
    expect(actor.getSnapshot().context.other?.txId).toBe('s1');
    actor.send(tx('L1', 500_000, 60_000, 'b')); // tested by s1 at merchant a
    actor.send(tx('L2', 600_500, 60_000, 'b')); // s1 is 600,500 ms old now
    actor.send(tx('L3', 600_500, 60_000, 'a')); // s3 at merchant b is 598,500 ms old
    expect(alerts).toEqual(['L1', 'L3']);
    actor.stop();
  });

  it('is stopped (and the card keeps no actor) once the card has no small transaction within reach', () => {
    const card = new CardRules('c');
    const retention = new Retention(DEFAULT_FRAUD_CONFIG);
    const base = { cardId: 'c', country: 'FR' };
    card.evaluate({ ...base, txId: 'a', ts: 0, amount: 100, merchant: 'kiosk' }, DEFAULT_FRAUD_CONFIG, retention);
    expect(card.watching).toBe(true);
    card.evaluate({ ...base, txId: 'b', ts: 700_000, amount: 60_000, merchant: 'shop' }, DEFAULT_FRAUD_CONFIG, retention);
    expect(card.watching).toBe(false);
  });
});

describe('the fraud configuration', () => {
  it('has the spec’s defaults and rejects wrong values with an error that names the setting', () => {
    expect(resolveFraudConfig()).toEqual(DEFAULT_FRAUD_CONFIG);
    expect(resolveFraudConfig({ velocity: { count: 3 } }).velocity).toEqual({ count: 3, windowMs: 60_000 });
    const error = (overrides: unknown): string => {
      try {
        resolveFraudConfig(overrides);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(error({ velocity: { count: 0 } })).toBe("invalid configuration 'fraud.velocity.count': must be an integer >= 1, got 0");
    expect(error({ amountSpike: { multiplier: 2.5 } })).toBe("invalid configuration 'fraud.amountSpike.multiplier': must be an integer, got 2.5");
    expect(error({ cardTesting: { windowMs: -1 } })).toBe("invalid configuration 'fraud.cardTesting.windowMs': must be an integer >= 0, got -1");
    expect(error({ velocty: {} })).toMatch(/'fraud.velocty': unknown rule/);
    expect(error({ velocity: { cnt: 3 } })).toMatch(/'fraud.velocity': unknown setting\(s\) cnt/);
    expect(error({ impossibleTravel: { windowMs: '60000' } })).toMatch(/'fraud.impossibleTravel.windowMs': must be an integer/);
    expect(() => createFraudApp({ config: { velocity: { windowMs: 1.5 } } })).toThrow(ConfigError);
  });
});

describe('the input schema', () => {
  it('accepts exactly the valid records of the spec', () => {
    const ok = { txId: 't', cardId: 'c', amount: 1, merchant: 'm', country: 'FR', ts: 0 };
    expect(TransactionSchema.safeParse(ok).success).toBe(true);
    expect(TransactionSchema.safeParse({ ...ok, extra: [1] }).data).toEqual({ ...ok, extra: [1] }); // extra fields kept
    for (const bad of [
      { ...ok, amount: 1.5 },
      { ...ok, amount: true },
      { ...ok, amount: '1' },
      { ...ok, ts: Number.MAX_SAFE_INTEGER + 2 },
      { ...ok, country: null },
      { ...ok, txId: 7 },
      (({ merchant: _m, ...rest }) => rest)(ok),
    ]) {
      expect(TransactionSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe('the generator', () => {
  it('is deterministic for a seed, with unique txIds, the malformed share and disorder within 5,000 ms', () => {
    const lines = generateTransactions({ records: 5_000, seed: 11 });
    expect(generateTransactions({ records: 5_000, seed: 11 })).toEqual(lines);
    expect(generateTransactions({ records: 5_000, seed: 12 })).not.toEqual(lines);
    expect(lines).toHaveLength(5_000);
    const valid = lines.map(referenceParse).filter((t): t is Transaction => t !== undefined);
    expect(lines.length - valid.length).toBe(50);
    expect(new Set(valid.map((t) => t.txId)).size).toBe(valid.length);
    let max = -Infinity;
    let disordered = 0;
    for (const t of valid) {
      expect(t.ts).toBeGreaterThanOrEqual(max - 4_999);
      if (t.ts < max) disordered++;
      max = Math.max(max, t.ts);
    }
    expect(disordered).toBeGreaterThan(100);
    const alerts = referenceAlerts(valid, () => DEFAULT_FRAUD_CONFIG);
    for (const rule of ['velocity', 'amount-spike', 'impossible-travel', 'card-testing']) {
      expect(alerts.filter((a) => a.rule === rule).length, rule).toBeGreaterThan(5);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (b) the whole app on MemoryLog
// ---------------------------------------------------------------------------------------------

/** What the reference expects from lines produced to a MemoryLog topic: per partition, in offset order. */
function referenceRun(log: MemoryLog, topic: string): { alerts: string[]; lateTxIds: string[]; deadLetters: number } {
  const onTime: Transaction[] = [];
  const late: string[] = [];
  let deadLetters = 0;
  const maxSeen = new Map<number, number>();
  for (const record of log.read(topic)) {
    const tx = referenceParse(record.value?.toString('utf8') ?? '');
    if (tx === undefined) {
      deadLetters++;
      continue;
    }
    const max = maxSeen.get(record.partition) ?? -Infinity;
    if (tx.ts < max - BOUND) late.push(tx.txId);
    else onTime.push(tx);
    maxSeen.set(record.partition, Math.max(max, tx.ts));
  }
  return { alerts: sorted(referenceAlerts(onTime, () => DEFAULT_FRAUD_CONFIG)), lateTxIds: late.sort(), deadLetters };
}

async function runOnMemoryLog(lines: readonly string[], partitions: number) {
  // The reference reads the input back from the topic (its partitions decide lateness): keep it.
  const log = new MemoryLog({ trimCommitted: false });
  log.createTopic('transactions', partitions);
  await log.producer().send(
    'transactions',
    lines.map((line) => {
      const cardId = (referenceParse(line) as { cardId?: unknown } | undefined)?.cardId;
      return { key: typeof cardId === 'string' ? cardId : null, value: line };
    }),
  );
  const alerts: FraudAlert[] = [];
  const late: string[] = [];
  const app = createTributary({
    log,
    logger,
    processors: fraud.processors({
      prefix: '',
      inputTopic: 'transactions',
      partitions,
      outOfOrdernessMs: BOUND,
      sinks: {
        'fraud-alerts': toFunction('alerts', async (items: readonly FraudAlert[]) => void alerts.push(...items)),
        late: toFunction('late', async (items: readonly LateRecord<StreamRecord<unknown, Transaction>>[]) => void late.push(...items.map((l) => l.element.value.txId))),
      },
    }),
  });
  await app.start();
  await app.finishInput({ timeoutMs: 60_000 });
  await app.stop();
  return { log, alerts, late, deadLetters: log.read('fraud.dlq').length };
}

describe('the fraud app on MemoryLog', () => {
  for (const partitions of [1, 4]) {
    it(`gives the reference’s alerts record for record on generated input, with ${partitions} partition(s), late records and dead letters counted exactly`, async () => {
      const lines = generateTransactions({ records: 6_000, seed: 100 + partitions, lateShare: 0.01 });
      const run = await runOnMemoryLog(lines, partitions);
      const expected = referenceRun(run.log, 'transactions');
      expect(run.deadLetters).toBe(60);
      expect(run.deadLetters).toBe(expected.deadLetters);
      expect(expected.lateTxIds.length).toBeGreaterThan(10);
      expect([...run.late].sort()).toEqual(expected.lateTxIds);
      expect(run.alerts.length).toBe(expected.alerts.length); // each exactly once
      expect(sorted(run.alerts)).toEqual(expected.alerts);
    }, 60_000);
  }

  it('gives the same alerts however the same input is partitioned', async () => {
    const lines = generateTransactions({ records: 3_000, seed: 5 });
    const one = await runOnMemoryLog(lines, 1);
    const three = await runOnMemoryLog(lines, 3);
    expect(one.late).toEqual([]);
    expect(sorted(three.alerts)).toEqual(sorted(one.alerts));
  }, 60_000);
});

describe('the fraud app when partition actors fail', () => {
  it('gives the same alerts as an uninterrupted run: a restart replays every transaction the cards’ state needs', async () => {
    const lines = generateTransactions({ records: 4_000, seed: 31 });
    const clean = await runOnMemoryLog(lines, 2);
    const log = new MemoryLog();
    log.createTopic('transactions', 2);
    await log.producer().send(
      'transactions',
      lines.map((line) => ({ key: referenceParse(line)?.cardId ?? null, value: line })),
    );
    const failAt = new Set([150, 700, 701, 1_333, 1_900]);
    const failed = new Set<number>();
    const alerts: FraudAlert[] = [];
    const [definition] = fraud.processors({
      prefix: '',
      inputTopic: 'transactions',
      partitions: 2,
      outOfOrdernessMs: BOUND,
      sinks: {
        'fraud-alerts': toFunction('alerts', async (items: readonly FraudAlert[]) => void alerts.push(...items)),
        late: toFunction('late', async () => undefined),
      },
    }) as ProcessorDefinition<string | null, Transaction>[];
    let failures = 0;
    const app = createTributary({
      log,
      logger,
      restartBackoff: { minMs: 1, maxMs: 5 },
      processors: [
        {
          ...definition,
          commitIntervalMs: 5,
          maxBatchRecords: 13,
          pipeline: (records: Observable<StreamRecord<string | null, Transaction>>, context) =>
            definition.pipeline(
              records.pipe(
                map((r) => {
                  if (failAt.has(r.offset) && !failed.has(r.offset)) {
                    failed.add(r.offset);
                    throw new Error(`injected failure at offset ${r.offset}`);
                  }
                  return r;
                }),
              ),
              context,
            ),
        },
      ],
    });
    app.lifecycle.subscribe((e) => void (e.type === 'partition.failed' && failures++));
    await app.start();
    await app.finishInput({ timeoutMs: 60_000 });
    await app.stop();
    expect(failures).toBeGreaterThanOrEqual(5);
    // At least once: a re-emitted alert is identical, and the set is the uninterrupted run's.
    expect([...new Set(sorted(alerts))]).toEqual(sorted(clean.alerts));
  }, 60_000);
});

describe('the fraud app through runExample (the command line)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fraud-example-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const partitions of [1, 4]) {
    it(`writes the reference’s alerts, no late records and every malformed line as a dead letter, with ${partitions} partition(s)`, async () => {
      const lines = generateTransactions({ records: 8_000, seed: 7 });
      const input = join(dir, `in-${partitions}.jsonl`);
      await writeFile(input, `${lines.join('\n')}\n`);
      const outputDir = join(dir, `out-${partitions}`);
      const { summary } = await runExample({ app: fraud, input, outputDir, partitions, logger });
      const readLines = async (name: string): Promise<string[]> =>
        (await readFile(join(outputDir, name), 'utf8')).split('\n').filter((l) => l.length > 0);
      const alerts = (await readLines('fraud-alerts.jsonl')).map((l) => JSON.parse(l) as FraudAlert);
      const valid = lines.map(referenceParse).filter((t): t is Transaction => t !== undefined);
      const expected = sorted(referenceAlerts(valid, () => DEFAULT_FRAUD_CONFIG));
      expect(sorted(alerts)).toEqual(expected);
      expect(Object.keys(alerts[0])).toEqual(['rule', 'cardId', 'txId', 'ts']);
      expect(summary).toEqual({ recordsIn: 8_000, deadLetters: 80, late: 0, outputs: { 'fraud-alerts': expected.length }, duplicates: 0 });
      const deadLetters = (await readLines('dead-letter.jsonl')).map((l) => JSON.parse(l) as { line: string; lineNumber: number });
      expect(deadLetters.map((d) => d.line).sort()).toEqual(lines.filter((l) => referenceParse(l) === undefined).sort());
      for (const d of deadLetters) expect(lines[d.lineNumber - 1]).toBe(d.line);
    }, 60_000);
  }
});
