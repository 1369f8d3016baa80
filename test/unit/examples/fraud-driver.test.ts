import { afterEach, describe, expect, it } from 'vitest';
import { toFunction, toTopic } from '../../../src/index.js';
import { createTestDriver, type TestDriver } from '../../../src/testing/index.js';
import { createFraudApp, FRAUD_ALERTS } from '../../../examples/fraud/app.js';
import type { FraudAlert } from '../../../examples/fraud/card-rules.js';
import type { Transaction } from '../../../examples/fraud/transaction.js';

const T = 1_700_000_000_000;

/** The fraud app's processor with the spec's thresholds, as `npm run example -- fraud` runs it, alerts to a topic. */
function fraudProcessors() {
  return createFraudApp().processors({
    prefix: '',
    inputTopic: 'transactions',
    partitions: 2,
    outOfOrdernessMs: 5_000,
    sinks: { [FRAUD_ALERTS]: toTopic(FRAUD_ALERTS), late: toFunction('late', () => undefined) },
  });
}

let seq = 0;
const tx = (cardId: string, amount: number, ts: number, more: Partial<Transaction> = {}) => {
  const value: Transaction = { txId: `t${String(seq++).padStart(3, '0')}`, cardId, amount, merchant: 'm1', country: 'FR', ts, ...more };
  return { key: cardId, value };
};
const alertsOf = (d: TestDriver): string[] =>
  d
    .output<FraudAlert>(FRAUD_ALERTS)
    .values()
    .map((a) => `${a.rule} ${a.cardId} ${a.ts - T}`)
    .sort();

let driver: TestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('the fraud rules under the test driver', () => {
  it('fire each rule at its threshold and not a step beyond, in event time', async () => {
    driver = await createTestDriver({ processors: fraudProcessors(), partitions: { transactions: 2 } });
    const input = driver.input<string, Transaction>('transactions');
    const txs = [
      // velocity: the 5th within (ts − 60 s, ts] fires; 5 spread over exactly 60 s do not
      ...[0, 1, 2, 3, 4].map((i) => tx('fast', 1_000, T + i * 1_000)),
      ...[0, 1, 2, 3, 4].map((i) => tx('spread', 1_000, T + i * 15_000)),
      // amount-spike: 3 earlier of 1,000; 15,001 × 3 > 5 × 3,000 fires, 5,000 × 3 = 15,000 does not
      ...[0, 1, 2].map((i) => tx('spike', 1_000, T + i * 100_000)),
      tx('spike', 15_001, T + 300_000),
      ...[0, 1, 2].map((i) => tx('flat', 1_000, T + i * 100_000)),
      tx('flat', 5_000, T + 300_000),
      // impossible-travel: another country at most 1 h later
      tx('travel', 1_000, T),
      tx('travel', 1_000, T + 3_600_000, { country: 'DE' }),
      tx('slow-travel', 1_000, T),
      tx('slow-travel', 1_000, T + 3_600_001, { country: 'DE' }),
      // card-testing: at most 200 then at least 50,000 at another merchant within 10 min
      tx('tested', 200, T),
      tx('tested', 50_000, T + 600_000, { merchant: 'm2' }),
      tx('not-tested', 201, T),
      tx('not-tested', 50_000, T + 600_000, { merchant: 'm2' }),
    ];
    // In time order: a transaction more than 5 s behind one piped before it on its partition would be late.
    await input.pipe(txs.sort((a, b) => a.value.ts - b.value.ts));
    // Alerts follow each card's event-time order: none before the watermark passes them.
    expect(alertsOf(driver).filter((a) => a.startsWith('impossible-travel'))).toEqual([]);
    await driver.endInput();
    expect(alertsOf(driver)).toEqual(['amount-spike spike 300000', 'card-testing tested 600000', 'impossible-travel travel 3600000', 'velocity fast 4000']);
  });

  it('puts each card’s transactions in event-time order first: disorder within the bound changes nothing, beyond it is late', async () => {
    driver = await createTestDriver({ processors: fraudProcessors() });
    const input = driver.input<string, Transaction>('transactions');
    await input.pipe([4, 2, 0, 3, 1].map((i) => tx('fast', 1_000, T + i * 1_000)));
    await input.pipe(tx('fast', 1_000, T + 5_000)); // the 6th within 60 s
    await input.pipe(tx('other', 1_000, T + 20_000)); // watermark T + 15 s
    await input.pipe(tx('fast', 1_000, T + 14_999)); // behind the watermark: late
    await driver.endInput();
    expect(alertsOf(driver)).toEqual(['velocity fast 4000', 'velocity fast 5000']);
    expect(driver.lateRecords<{ value: Transaction }>('fraud').map((r) => r.value.ts - T)).toEqual([14_999]);
  });

  it('gives the same alerts after a failure mid-way: the cards are restored from their changelog and the rest replayed', async () => {
    const run = async (failing: boolean) => {
      seq = 0;
      const d = await createTestDriver({ processors: fraudProcessors(), partitions: { transactions: 2 } });
      const input = d.input<string, Transaction>('transactions');
      const cards = ['a', 'b', 'c'];
      await input.pipe(Array.from({ length: 30 }, (_, i) => tx(cards[i % 3], i % 4 === 0 ? 9_000 : 100, T + i * 7_000, { merchant: `m${i % 2}` })));
      await d.advanceWallClock(1_000); // a commit: the cards' state is in the changelog
      if (failing) d.failAt({ processor: 'fraud', when: (r) => (r.value as Transaction).txId === 't035' });
      await input.pipe(Array.from({ length: 30 }, (_, i) => tx(cards[i % 3], i % 5 === 0 ? 60_000 : 150, T + 210_000 + i * 7_000, { merchant: `m${i % 3}`, country: i % 7 === 0 ? 'DE' : 'FR' })));
      await d.advanceWallClock(100); // the restart's backoff
      await d.endInput();
      const result = { alerts: alertsOf(d), lifecycle: d.lifecycle.map((e) => e.type).filter((t) => t !== 'partition.restored') };
      await d.close();
      return result;
    };
    const clean = await run(false);
    const failed = await run(true);
    expect(clean.alerts.length).toBeGreaterThan(5);
    expect(failed.lifecycle).toContain('partition.failed');
    expect(failed.lifecycle.filter((t) => t === 'partition.started')).toHaveLength(3); // two partitions, one restart
    expect(failed.alerts).toEqual(clean.alerts);
  });
});
