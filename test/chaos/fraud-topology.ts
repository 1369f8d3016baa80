// The fraud example (examples/fraud) as the chaos workers' second processor: per-card keyed
// state with long offset holds, event-time ordering, an xstate machine per card, and thresholds
// read from a NATS (JetStream KV) broadcast, so that a nats-server restart matters.
import { createFraudApp, FRAUD_ALERTS } from '../../examples/fraud/app.js';
import type { FraudAlert } from '../../examples/fraud/card-rules.js';
import type { Transaction } from '../../examples/fraud/transaction.js';
import type { ProcessorDefinition } from '../../src/processor/define-processor.js';
import type { Sink } from '../../src/sinks/sink.js';
import { toTopic } from '../../src/sinks/topic-sink.js';
import type { LateRecord } from '../../src/streams/late-output.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';

export const FraudTopics = {
  input: 'transactions',
  alerts: 'fraud-alerts',
  late: 'fraud-late',
  dlq: 'fraud.dlq',
} as const;

/** The fraud processor's id and consumer group (the app's prefix is empty). */
export const FRAUD_PROCESSOR = 'fraud';
/** The broadcast namespace of the thresholds: `tributary.chaos.broadcast.fraud-config`. */
export const FRAUD_CLUSTER = 'chaos';
/** Out-of-orderness bound of the fraud processor; the generator's disorder stays within it. */
export const FRAUD_BOUND_MS = 5_000;
/**
 * Cards forget their history after this long without a transaction. Far longer than a run's
 * event time (so alerts equal the reference's, which keeps all history), but finite: the flush
 * records, a day later, expire every card, so every hold is released and the group's commit
 * reaches the end of the input.
 */
export const FRAUD_HISTORY_TTL_MS = 24 * 3_600_000;

/** A late transaction as the late topic holds it: where it was read, and the transaction. */
export interface LateTransaction {
  readonly p: number;
  readonly o: number;
  readonly tx: Transaction;
}

/** The fraud processor as the chaos workers run it. */
export function fraudProcessors(options: { natsUrl: string; inputPartitions: number }): ProcessorDefinition<string | null, unknown>[] {
  const app = createFraudApp({ cluster: FRAUD_CLUSTER, historyTtlMs: FRAUD_HISTORY_TTL_MS });
  const alerts = toTopic<FraudAlert>(FraudTopics.alerts, { key: (a) => a.cardId, partitions: 3 });
  const lateTopic = toTopic<LateTransaction>(FraudTopics.late, { key: (l) => l.tx.cardId, partitions: 1 });
  const late: Sink<LateRecord<StreamRecord<unknown, Transaction>>> = {
    name: 'fraud-late',
    start: lateTopic.start,
    stop: lateTopic.stop,
    write: (late) => lateTopic.write(late.map(({ element: r }) => ({ p: r.partition, o: r.offset, tx: r.value }))),
    encode: (late) => lateTopic.encode!(late.map(({ element: r }) => ({ p: r.partition, o: r.offset, tx: r.value }))),
  };
  return app.processors({
    prefix: '',
    inputTopic: FraudTopics.input,
    partitions: options.inputPartitions,
    outOfOrdernessMs: FRAUD_BOUND_MS,
    sinks: { [FRAUD_ALERTS]: alerts, late: late },
    natsUrl: options.natsUrl,
  });
}
