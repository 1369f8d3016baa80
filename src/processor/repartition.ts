import type { Observable } from 'rxjs';
import type { OutgoingRecord } from '../connectors/log.js';
import { ConfigError } from '../errors.js';
import { OrderedWriter } from '../sinks/ordered-writer.js';
import { sendRetrying } from '../sinks/send-retrying.js';
import { outgoingRecordSize } from '../sinks/topic-sink.js';
import type { Sink, SinkContext } from '../sinks/sink.js';
import type { StreamRecord } from '../streams/stream-record.js';
import type { PipelineContext, PipelineOutputs } from './pipeline-context.js';
import type { BufferOptions, DeadLetterOptions } from './stage-options.js';
import type { TableSource } from '../state/source-table.js';

/** Header names on the records of a repartition topic. */
export const RepartitionHeaders = {
  /** The upstream partition that wrote the record: `topic:partition`. */
  upstream: 'tributary.up',
  /** The upstream record's offset and the record's number among those it caused (for dropping replayed duplicates). */
  offset: 'tributary.up.offset',
  seq: 'tributary.up.seq',
  /** The upstream partition's watermark: on a control record (no key, no value), and on each data record (as it was written). */
  watermark: 'tributary.wm',
} as const;

/** What a pipeline's repartition output becomes on the way to the sink (built by the partition pipeline). */
export type RepartitionEnvelope<T> =
  | { readonly kind: 'data'; readonly item: T; readonly upstream: string; readonly offset: number; readonly seq: number; readonly watermark: number }
  | { readonly kind: 'watermark'; readonly watermark: number; readonly upstream: string };

/** Options of {@link repartition}. */
export interface RepartitionOptions<T> {
  /** Names the stage: the internal topic is `<processor>-<name>-repartition`, the stage's processor `<processor>-<name>`. */
  readonly name: string;
  /** The new key: records with the same key meet in the same downstream partition. */
  readonly key: (item: T) => string;
  /** Event time of an item. Default: its `timestamp` field. */
  readonly timestamp?: (item: T) => number;
  /** Partitions of the internal topic (and so downstream partition actors). Default 4. */
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** The downstream stage: gets the items, keyed by the new key, with the upstream partitions' minimum watermark. */
  readonly pipeline: (records: Observable<StreamRecord<string, T>>, context: PipelineContext) => PipelineOutputs;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly sinks: Sink<any> | Readonly<Record<string, Sink<any>>>;
  readonly deadLetters?: DeadLetterOptions;
  readonly buffer?: BufferOptions;
  readonly commitIntervalMs?: number;
  /**
   * Topics the stage reads as tables (as a processor's `tables`): a `table(topic)` joins the
   * stage's partition p with the topic's partition p, so `partitions` must be the topic's
   * partition count (checked at start). Repartitioning by the join key is how a stream keyed
   * otherwise meets a table from a topic. See docs/joins.md, "Co-partitioning".
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly tables?: Readonly<Record<string, TableSource<any, any>>>;
}

/** A sink that feeds a downstream stage through an internal topic. */
export interface RepartitionSink<T> extends Sink<T> {
  readonly repartition: RepartitionOptions<T>;
  /** Set at start: the internal topic. */
  readonly topic: string | undefined;
}

/** True when `sink` is a {@link repartition} sink. */
export function isRepartitionSink(sink: Sink<unknown>): sink is RepartitionSink<unknown> {
  return typeof (sink as Partial<RepartitionSink<unknown>>).repartition === 'object';
}

/** The internal topic of a repartition stage. */
export function repartitionTopic(processorId: string, name: string): string {
  return `${processorId}-${name}-repartition`;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

/**
 * Regroups a stream by a new key (Kafka Streams' repartition, the `groupBy` of a new key): the
 * items go to an internal topic `<processor>-<name>-repartition`, keyed by `key`, and a second
 * stage of partition actors runs `pipeline` on it. Durable and replayable like any topic.
 *
 * Downstream, a partition's watermark is the minimum over all upstream partitions (each writes
 * its watermark to every downstream partition as a control record, in order with its data), so
 * an item that was on time upstream is never late downstream. Items an upstream partition
 * writes again after a replay are recognised (upstream offset and sequence) and dropped.
 *
 * @example
 * // clickstream: page views are keyed by user on input; count them per page.
 * defineProcessor({
 *   id: 'clickstream', source: { topics: 'clicks', timestamp: (r) => r.value.ts },
 *   eventTime: { outOfOrdernessMs: 5_000 },
 *   pipeline: (clicks) => clicks.pipe(map((r) => ({ page: r.value.page, timestamp: r.timestamp }))),
 *   sinks: repartition({
 *     name: 'by-page', key: (v) => v.page, partitions: 4,
 *     pipeline: (views, ctx) => views.pipe(tumbling({ size: 60_000, aggregate: counting(), store: 'views-per-minute' })),
 *     sinks: toTopic('page-views'),
 *   }),
 * });
 */
export function repartition<T>(options: RepartitionOptions<T>): Sink<T> {
  if (!options || typeof options !== 'object') throw new ConfigError('repartition', 'give the options');
  if (typeof options.name !== 'string' || !NAME_PATTERN.test(options.name)) {
    throw new ConfigError('repartition.name', `must match ${NAME_PATTERN}, got ${JSON.stringify(options.name)}`);
  }
  if (typeof options.key !== 'function') throw new ConfigError(`repartition(${options.name}).key`, 'must be a function (item) => string');
  if (typeof options.pipeline !== 'function') throw new ConfigError(`repartition(${options.name}).pipeline`, 'must be a function');
  const partitions = options.partitions ?? 4;
  if (!Number.isSafeInteger(partitions) || partitions <= 0) {
    throw new ConfigError(`repartition(${options.name}).partitions`, `must be a positive integer, got ${String(partitions)}`);
  }
  const timestampOf = options.timestamp ?? ((item: T) => (item as { timestamp?: number }).timestamp as number);
  let writer: OrderedWriter<OutgoingRecord> | undefined;
  let topic: string | undefined;

  const toRecords = (envelope: RepartitionEnvelope<T>): OutgoingRecord[] => {
    if (envelope.kind === 'watermark') {
      const headers = { [RepartitionHeaders.upstream]: envelope.upstream, [RepartitionHeaders.watermark]: String(envelope.watermark) };
      return Array.from({ length: partitions }, (_, partition) => ({ partition, key: null, value: null, headers }));
    }
    const timestamp = timestampOf(envelope.item);
    return [
      {
        key: options.key(envelope.item),
        value: jsonText(envelope.item),
        timestamp: Number.isFinite(timestamp) ? timestamp : undefined,
        headers: {
          [RepartitionHeaders.upstream]: envelope.upstream,
          [RepartitionHeaders.offset]: String(envelope.offset),
          [RepartitionHeaders.seq]: String(envelope.seq),
          // The upstream partition's watermark as the item was emitted: a downstream stage judges
          // the item late against it (its own upstream's), so lateness never depends on how the
          // upstream batched its records or how upstream partitions interleave.
          ...(Number.isFinite(envelope.watermark) ? { [RepartitionHeaders.watermark]: String(envelope.watermark) } : {}),
        },
      },
    ];
  };

  const sink: RepartitionSink<T> = {
    name: `repartition:${options.name}`,
    repartition: { ...options, partitions },
    get topic() {
      return topic;
    },
    async start(context: SinkContext) {
      topic = repartitionTopic(context.processorId, options.name);
      const admin = context.log.admin();
      try {
        // No time retention (as Kafka Streams' repartition topics, KIP-284): the records carry
        // their event time, and the broker's retention (7 days by default) would delete
        // historical ones before the downstream stage read them, or before a replay reads them again.
        await admin.ensureTopics([{ name: topic, partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': '-1' } }]);
      } finally {
        await admin.close();
      }
      const target = topic;
      writer = new OrderedWriter(
        (batch) =>
          sendRetrying(() => context.producer.send(target, batch), {
            stopped: () => false,
            onRetry: (err, attempt, delayMs) => context.logger.warn({ err, topic: target, attempt, delayMs }, 'writing to the repartition topic failed; retrying'),
          }),
        { sizeOf: outgoingRecordSize },
      );
    },
    write(items, origin) {
      if (!writer) return Promise.reject(new Error(`repartition ${options.name} written before start`));
      // The partition pipeline hands a repartition sink envelopes, not bare items.
      const envelopes = items as unknown as readonly RepartitionEnvelope<T>[];
      return writer.write(envelopes.flatMap(toRecords), origin);
    },
    encode(items) {
      if (topic === undefined) throw new Error(`repartition ${options.name} written before start`);
      const envelopes = items as unknown as readonly RepartitionEnvelope<T>[];
      return { topic, records: envelopes.flatMap(toRecords) };
    },
    async stop() {
      await writer?.idle();
    },
  };
  return sink;
}

/**
 * The item as JSON text (what the downstream stage's `json()` source reads). A string, not a
 * Buffer: producers write it straight into their batch (MemoryLog's segment, kafkajs' request),
 * where a Buffer made here would be one more copy, in Buffer's pool, per repartitioned record.
 */
function jsonText(item: unknown): string {
  const text = JSON.stringify(item) as string | undefined;
  if (text === undefined) throw new TypeError(`a repartitioned item must be JSON, got ${typeof item}`);
  return text;
}
