// The fraud processor's input: the fraud example's own seeded generator (cards, scenarios that
// trip every rule, thresholds hit exactly, ~1% malformed lines, disorder within 5 s), produced at
// a fixed rate like the count input.
import { generateTransactions } from '../../examples/fraud/generate.js';
import { partitionForKey } from '../../src/connectors/partitioner.js';
import type { InputRecord } from './input.js';

/** What the producer draws records from. */
export interface RecordSource {
  readonly ratePerSec: number;
  /** Records handed out so far. */
  readonly generated: number;
  /** The next record, or undefined when the source is exhausted. */
  next(): InputRecord | undefined;
  /** The record that ends `partition` (moves its watermark past everything). */
  flush(partition: number, ts: number): InputRecord;
}

/** Key of the lines that are not JSON objects with a string `cardId`. */
export const FRAUD_BAD_KEY_PREFIX = 'bad-fraud-';
/** Card ids of the flush transactions: `chaos-flush-<n>`, never in the generated input. */
export const FRAUD_FLUSH_PREFIX = 'chaos-flush-';

/**
 * `records` generated lines, handed out in order. Each valid line is keyed by its card; a
 * malformed one by `bad-fraud-<n>` (spread over the partitions by that key).
 */
export class FraudInput implements RecordSource {
  private readonly lines: string[];
  private index = 0;
  private nominal = 0;

  constructor(
    private readonly options: { seed: number; ratePerSec: number; records: number; inputPartitions: number },
  ) {
    this.lines = generateTransactions({ records: options.records, seed: options.seed });
  }

  get ratePerSec(): number {
    return this.options.ratePerSec;
  }

  get generated(): number {
    return this.index;
  }

  next(): InputRecord | undefined {
    if (this.index >= this.lines.length) return undefined;
    const n = this.index++;
    const value = this.lines[n];
    let key = `${FRAUD_BAD_KEY_PREFIX}${n}`;
    try {
      const parsed = JSON.parse(value) as { cardId?: unknown; ts?: unknown } | null;
      if (parsed && typeof parsed === 'object' && typeof parsed.cardId === 'string') key = parsed.cardId;
      if (parsed && typeof parsed === 'object' && typeof parsed.ts === 'number' && parsed.ts > this.nominal) this.nominal = parsed.ts;
    } catch {
      // a malformed line: keyed by its number
    }
    return { key, partition: partitionForKey(key, this.options.inputPartitions), value, nominal: this.nominal };
  }

  flush(partition: number, ts: number): InputRecord {
    let n = 0;
    while (partitionForKey(`${FRAUD_FLUSH_PREFIX}${n}`, this.options.inputPartitions) !== partition) n++;
    const cardId = `${FRAUD_FLUSH_PREFIX}${n}`;
    const tx = { txId: `flush-${partition}`, cardId, amount: 100, merchant: 'chaos-flush', country: 'ZZ', ts };
    return { key: cardId, partition, value: JSON.stringify(tx), nominal: ts };
  }
}
