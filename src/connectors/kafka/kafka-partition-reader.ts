import type { Kafka } from 'kafkajs';
import { TributaryError } from '../../errors.js';
import type { LogRecord, PartitionReader, TopicPartition } from '../log.js';
import { kafkaError } from './kafka-errors.js';
import { toHeaders } from './kafka-records.js';

/** What this reader uses of kafkajs' internal cluster and broker objects (kafkajs 2.2.x). */
interface KafkaCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
  findBroker(options: { nodeId: string }): Promise<KafkaBroker>;
}

interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  isControlRecord?: boolean;
}

interface KafkaBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: Array<{ partition: number; errorCode: number; highWatermark: string; messages: FetchedMessage[] }> }> }>;
  listOffsets?: unknown;
}

/** The same cluster kafkajs' own producer and consumer get: the client's brokers, TLS, SASL and logger. */
function createCluster(kafka: Kafka): KafkaCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== 'function') {
    throw new TributaryError('this kafkajs version does not expose its cluster factory (tributary needs kafkajs 2.2.x to read changelogs)');
  }
  return (create as (options: object) => KafkaCluster)({ allowAutoTopicCreation: false, isolationLevel: 1 });
}

/**
 * Reads ranges of Kafka partitions with plain `Fetch` requests to each partition's leader,
 * without joining a consumer group (kafkajs has no `assign()`): what Kafka Streams' restore
 * consumer does. Uses kafkajs' own cluster object (connections, metadata, SASL, TLS, retries),
 * reached through the client's cluster factory; the request and its decoding are kafkajs'.
 * Reads `read_committed`, so aborted transactional writes are never restored.
 *
 * @example
 * const reader = new KafkaPartitionReader(kafka);
 * await reader.read({ topic: 'app-counts-changelog', partition: 0 }, 0, 1_000, (records) => apply(records));
 */
export class KafkaPartitionReader implements PartitionReader {
  private readonly cluster: KafkaCluster;
  private connected: Promise<void> | undefined;
  private readonly topics = new Set<string>();

  constructor(
    kafka: Kafka,
    private readonly maxBytes = 4 * 1_048_576,
  ) {
    this.cluster = createCluster(kafka);
  }

  async read(tp: TopicPartition, from: number, until: number, onRecords: (records: readonly LogRecord[]) => void): Promise<void> {
    let offset = Math.max(0, from);
    while (offset < until) {
      const { messages, highWatermark } = await this.fetch(tp, offset);
      const records: LogRecord[] = [];
      let next = offset;
      for (const m of messages) {
        const at = Number(m.offset);
        if (at < offset) continue; // a batch starts before the offset asked for
        if (at >= until) {
          next = until;
          break;
        }
        next = at + 1;
        if (m.isControlRecord) continue; // transaction markers
        records.push({ topic: tp.topic, partition: tp.partition, offset: at, key: m.key, value: m.value, headers: toHeaders(m.headers), timestamp: Number(m.timestamp) });
      }
      if (records.length > 0) onRecords(records);
      if (next === offset) {
        // Nothing at or after `offset`: the partition ends before `until` (or everything left was compacted away).
        if (highWatermark <= offset || messages.length === 0) return;
        next = Math.min(until, highWatermark);
      }
      offset = next;
      if (offset >= highWatermark) return;
    }
  }

  async endOffset(tp: TopicPartition): Promise<number> {
    return (await this.fetch(tp, 0, 1)).highWatermark;
  }

  async close(): Promise<void> {
    if (this.connected) await this.cluster.disconnect().catch(() => undefined);
    this.connected = undefined;
  }

  private async fetch(tp: TopicPartition, offset: number, maxBytes = this.maxBytes): Promise<{ messages: FetchedMessage[]; highWatermark: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.connect();
        if (!this.topics.has(tp.topic)) {
          await this.cluster.addTargetTopic(tp.topic);
          this.topics.add(tp.topic);
        }
        const leader = this.cluster.findTopicPartitionMetadata(tp.topic).find((p) => p.partitionId === tp.partition)?.leader;
        if (leader === undefined) throw new TributaryError(`no leader known for ${tp.topic}-${tp.partition}`, { retriable: true });
        const broker = await this.cluster.findBroker({ nodeId: String(leader) });
        const response = await broker.fetch({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: 0,
          minBytes: 1,
          maxBytes,
          topics: [{ topic: tp.topic, partitions: [{ partition: tp.partition, fetchOffset: String(offset), maxBytes }] }],
        });
        const partition = response.responses.find((r) => r.topicName === tp.topic)?.partitions.find((p) => p.partition === tp.partition);
        if (!partition) throw new TributaryError(`fetch of ${tp.topic}-${tp.partition} returned no data for it`, { retriable: true });
        return { messages: partition.messages, highWatermark: Number(partition.highWatermark) };
      } catch (err) {
        // A moved leader or a broker restart: refresh the metadata and try again, 6 times in all.
        if (attempt >= 6) throw kafkaError(`reading ${tp.topic}-${tp.partition} from offset ${offset}`, err);
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        await this.cluster.refreshMetadata().catch(() => undefined);
      }
    }
  }

  private connect(): Promise<void> {
    this.connected ??= this.cluster.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }
}
