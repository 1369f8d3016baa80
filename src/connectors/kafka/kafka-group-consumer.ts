import kafkajs from 'kafkajs';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import {
  NotAssignedError,
  type GroupConsumer,
  type GroupConsumerHandlers,
  type GroupConsumerOptions,
  type LogRecord,
  type PartitionOffset,
  type TopicPartition,
} from '../log.js';
import type { KafkaAdmin } from './kafka-admin.js';
import { outsideOwnFetchDecoding, withOwnFetchDecoding } from './consumer-fetch-decoding.js';
import { kafkaError } from './kafka-errors.js';
import { toHeaders } from './kafka-records.js';
import { stateAwareAssigner } from './state-aware-assigner.js';

const { PartitionAssigners } = kafkajs;

/** Consumer tuning passed down from the connector's options. */
export interface KafkaConsumerTuning {
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly maxBytesPerPartition?: number;
  readonly fetchMaxWaitMs?: number;
}

/**
 * Kafka session timeout by default: 10 s. With a cluster, a dead node's members are evicted as
 * soon as it is declared down (2 s), so the session is the fallback (no cluster, NATS down); a
 * node whose event loop stalls longer than this loses its partitions even without a cluster.
 */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/**
 * Heartbeat to the group coordinator by default: every 500 ms. A member learns that the group is
 * rebalancing at its next heartbeat, so after an eviction the survivors rejoin within 500 ms.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 500;

const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * A kafkajs consumer-group member behind tributary's {@link GroupConsumer} contract.
 *
 * - `autoCommit` is off: offsets are committed only through {@link commit}, and only for
 *   partitions this member owns at that moment (kafkajs#1046: kafkajs would commit a revoked
 *   partition's offset after a rebalance).
 * - kafkajs has no revoke callback. Each `GROUP_JOIN` carries the new assignment; partitions
 *   that left it are revoked (already owned by someone else: their uncommitted records are
 *   replayed there, at-least-once), partitions that joined it are assigned. Batches wait until
 *   that reconciliation has run, so `onAssigned` always precedes a partition's first batch.
 * - `eachBatch` hands the batch over and returns; processing is synchronous and bounded by the
 *   fetch size, and a heartbeat follows every batch, so long work never misses the session.
 * - Batches fetched before a `seek` are stale and dropped (`isStale()`), then refetched.
 * - On `REBALANCING` (the member is about to rejoin), `onRebalancing` lets the runtime commit
 *   what is safe at once, best effort, while it still owns its partitions.
 * - `stop()` pauses fetching, lets `onRevoked` drain and commit while still a member, then
 *   leaves the group.
 *
 * @example
 * const consumer = new KafkaGroupConsumer(kafka, admin, { groupId: 'g', topics: ['clicks'] });
 * await consumer.start({ onAssigned, onRevoked, onBatch });
 */
export class KafkaGroupConsumer implements GroupConsumer {
  private readonly consumer: Consumer;
  private readonly assigned = new Map<string, TopicPartition>();
  // GROUP_JOINs received and the one whose assignment \`assigned\` holds; a rebalance announced.
  private joinsSeen = 0;
  private joinReconciled = 0;
  private rebalancing = false;
  private reconciling: Promise<void> = Promise.resolve();
  private handlers: GroupConsumerHandlers | undefined;
  private stopped = false;
  private currentMemberId: string | undefined;

  constructor(
    kafka: Kafka,
    private readonly admin: KafkaAdmin,
    private readonly options: GroupConsumerOptions,
    tuning: KafkaConsumerTuning = {},
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: tuning.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      heartbeatInterval: tuning.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      maxBytesPerPartition: tuning.maxBytesPerPartition ?? 1_048_576,
      // kafkajs sleeps this long when every partition is paused: keep it short so that a
      // partition resumed by backpressure is fetched again promptly.
      maxWaitTimeInMs: tuning.fetchMaxWaitMs ?? 250,
      allowAutoTopicCreation: false,
      retry: { retries: 10 },
      // With standbys: prefer the member with the warmest state (round robin while none has any, or for members without it).
      ...(options.localState ? { partitionAssigners: [stateAwareAssigner(options.localState), PartitionAssigners.roundRobin] } : {}),
    });
  }

  async start(handlers: GroupConsumerHandlers): Promise<void> {
    this.handlers = handlers;
    const { consumer } = this;
    // The listeners run outside the decoding switch: what they start (partition actors) keeps kafkajs' decoder.
    consumer.on(consumer.events.GROUP_JOIN, (event) => outsideOwnFetchDecoding(() => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      // A new member id: this member left the group (session expired, consumer restarted after a
      // crash) and joined again. Others may have owned its partitions meanwhile and moved their
      // committed offsets: every partition it had is lost, even one assigned to it again.
      const memberId = event.payload.memberId;
      const lost = this.currentMemberId !== undefined && memberId !== this.currentMemberId;
      this.currentMemberId = memberId;
      const join = ++this.joinsSeen;
      this.rebalancing = false;
      this.reconciling = this.reconciling.then(() => this.reconcile(assignment, lost, join)).catch((err: unknown) => {
        handlers.onCrash?.(err instanceof Error ? err : new Error(String(err)));
      });
    }));
    consumer.on(consumer.events.REBALANCING, () => outsideOwnFetchDecoding(() => {
      this.rebalancing = true;
      handlers.onRebalancing?.();
    }));
    consumer.on(consumer.events.CRASH, (event) => outsideOwnFetchDecoding(() => {
      const error = event.payload.error;
      if (!event.payload.restart) handlers.onCrash?.(error);
    }));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true });
      // Fetch responses decoded straight into log records (consumer-fetch-decoding.ts).
      await withOwnFetchDecoding(() =>
        consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 4,
          // What the batches start (partition actors, user code) runs outside the decoding switch.
          eachBatch: (payload) => outsideOwnFetchDecoding(() => this.eachBatch(payload)),
        }),
      );
    } catch (err) {
      throw kafkaError(`joining consumer group ${this.options.groupId}`, err);
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload; // kafkajs types the rest as methods: called on the payload
    await this.reconciling;
    if (!payload.isRunning() || payload.isStale() || this.stopped) return;
    const key = tpKey(batch.topic, batch.partition);
    if (!this.assigned.has(key)) return;
    const { topic, partition } = batch;
    const records = isLogRecordBatch(batch.messages) ? batch.messages : toLogRecords(topic, partition, batch.messages);
    // The records are built for this batch alone: the pipeline may deserialize them in place.
    await this.handlers!.onBatch({ topic, partition, records, highWatermark: Number(batch.highWatermark), exclusive: true });
    if (batch.messages.length > 0 && !payload.isStale()) payload.resolveOffset(batch.lastOffset());
    await payload.heartbeat();
  }

  private async reconcile(assignment: Record<string, number[]>, lost: boolean, join: number): Promise<void> {
    this.joinReconciled = join;
    const next = new Map<string, TopicPartition>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) next.set(tpKey(topic, partition), { topic, partition });
    }
    const revoked = [...this.assigned].filter(([k]) => lost || !next.has(k)).map(([, tp]) => tp);
    for (const tp of revoked) this.assigned.delete(tpKey(tp.topic, tp.partition));
    const added = [...next].filter(([k]) => !this.assigned.has(k)).map(([, tp]) => tp);
    if (revoked.length > 0) await this.handlers!.onRevoked(revoked);
    for (const tp of added) this.assigned.set(tpKey(tp.topic, tp.partition), tp);
    if (added.length > 0) await this.handlers!.onAssigned(added);
  }

  pause(tp: TopicPartition): void {
    this.consumer.pause([{ topic: tp.topic, partitions: [tp.partition] }]);
  }

  resume(tp: TopicPartition): void {
    this.consumer.resume([{ topic: tp.topic, partitions: [tp.partition] }]);
  }

  seek(tp: TopicPartition, offset: number): void {
    try {
      this.consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(offset) });
    } catch {
      // The consumer is restarting (kafkajs: "consumer group was not initialized"): it joins again
      // as a new member, and every partition then starts afresh from its committed offset.
    }
  }

  async commit(offsets: readonly PartitionOffset[], options: { readonly strict?: boolean } = {}): Promise<void> {
    const owned = offsets.filter((o) => this.assigned.has(tpKey(o.topic, o.partition)));
    if (options.strict && owned.length < offsets.length) {
      throw new NotAssignedError(this.options.groupId, offsets.filter((o) => !this.assigned.has(tpKey(o.topic, o.partition))));
    }
    // Kafka accepts a commit from any member of the current generation, for any partition: the
    // assignment this member acts on may be a generation old while the next one is being
    // reconciled (or agreed), and another member may own the partition already. A strict
    // commit is a claim of ownership: refused then.
    if (options.strict && (this.rebalancing || this.joinReconciled !== this.joinsSeen)) {
      throw new NotAssignedError(this.options.groupId, offsets, 'a rebalance is in progress');
    }
    if (owned.length === 0) return;
    try {
      await this.consumer.commitOffsets(
        owned.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset), metadata: o.metadata ?? null })),
      );
    } catch (err) {
      throw kafkaError(`committing offsets of group ${this.options.groupId}`, err);
    }
  }

  async committed(partitions: readonly TopicPartition[]): Promise<PartitionOffset[]> {
    const admin = await this.admin.client();
    const topics = [...new Set(partitions.map((p) => p.topic))];
    const fetched = await admin.fetchOffsets({ groupId: this.options.groupId, topics });
    const result: PartitionOffset[] = [];
    for (const tp of partitions) {
      const found = fetched.find((t) => t.topic === tp.topic)?.partitions.find((p) => p.partition === tp.partition);
      result.push({ ...tp, offset: found ? Number(found.offset) : -1, metadata: found?.metadata ?? undefined });
    }
    return result;
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()];
  }

  /** The member id of the last join (kafkajs' `GROUP_JOIN`); undefined before it and after `stop()`. */
  memberId(): string | undefined {
    return this.stopped ? undefined : this.currentMemberId;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const owned = [...this.assigned.values()];
    const byTopic = new Map<string, number[]>();
    for (const tp of owned) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    if (byTopic.size > 0) this.consumer.pause([...byTopic].map(([topic, partitions]) => ({ topic, partitions })));
    await this.reconciling;
    // Drain and commit while still a member, then leave the group.
    if (owned.length > 0) await this.handlers?.onRevoked(owned);
    this.assigned.clear();
    await this.consumer.disconnect();
    await this.admin.close();
  }
}

/**
 * Whether the batch's messages are log records already: decoded by tributary's own Fetch decoder
 * (`consumer-fetch-decoding.ts`), whose offsets are numbers where kafkajs' are strings. A batch
 * is decoded whole by one decoder.
 */
function isLogRecordBatch(messages: readonly KafkaMessage[] | readonly LogRecord[]): messages is LogRecord[] {
  return messages.length > 0 && typeof messages[0].offset === 'number';
}

/**
 * A fetched batch's messages (decoded by kafkajs) as log records. This runs for every record, so it avoids what it
 * can: kafkajs gives offsets and timestamps as decimal strings. Offsets in a fetch strictly
 * increase, so when the first and last differ by the count minus one there is no gap (no
 * compaction, no transaction marker) and each offset is the first plus its index; timestamps are
 * parsed by {@link parseDecimal} rather than `Number()`, once per run of equal ones.
 */
function toLogRecords(topic: string, partition: number, messages: readonly KafkaMessage[]): LogRecord[] {
  const n = messages.length;
  const records: LogRecord[] = [];
  if (n === 0) return records;
  const first = parseDecimal(messages[0].offset);
  const contiguous = parseDecimal(messages[n - 1].offset) - first === n - 1;
  // Producers batch records created in the same millisecond: reuse the last parse when the text repeats.
  let timestampText = '';
  let timestamp = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    if (m.timestamp !== timestampText) {
      timestampText = m.timestamp;
      timestamp = parseDecimal(timestampText);
    }
    records.push({
      topic,
      partition,
      offset: contiguous ? first + i : parseDecimal(m.offset),
      key: m.key,
      value: m.value,
      headers: toHeaders(m.headers),
      timestamp,
    });
  }
  return records;
}

/**
 * `Number(text)` for kafkajs' offsets and timestamps, faster for what they nearly always are:
 * up to 15 decimal digits (exact: below 2^53). Anything else (a sign, more digits) goes to `Number`.
 */
function parseDecimal(text: string): number {
  const length = text.length;
  if (length === 0 || length > 15) return Number(text);
  let n = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number(text);
    n = n * 10 + digit;
  }
  return n;
}
