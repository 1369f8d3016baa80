import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';
import { TributaryError } from '../../errors.js';
import type { LogRecord, PartitionReader, TopicPartition } from '../log.js';
import { kafkaError } from './kafka-errors.js';
import { decodeFetchResponse, OffsetOutOfRangeError, type FetchedPartition } from './fetch-response-decoder.js';

/** What this reader uses of kafkajs' internal cluster and broker objects (kafkajs 2.2.x). */
interface KafkaCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
  findBroker(options: { nodeId: string }): Promise<KafkaBroker>;
}

interface KafkaBroker {
  /** Which versions of each API the broker speaks, by API key (known once connected). */
  readonly versions?: Record<number, { minVersion: number; maxVersion: number }> | null;
  listOffsets(request: {
    replicaId: number;
    isolationLevel: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; timestamp: number }> }>;
  }): Promise<{ responses: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }>;
}

/** kafkajs' Fetch request factory of one version. */
type FetchRequest = (options: object) => { request: object; requestTimeout: number };
const fetchV11 = (createRequire(import.meta.url)('kafkajs/src/protocol/requests/fetch') as { protocol(o: { version: number }): FetchRequest }).protocol({ version: 11 });
const FETCH_API_KEY = 1;

/**
 * One Fetch (v11) of one partition from `offset`, through the broker's own request method and
 * connection pool: kafkajs encodes the request, and the response's bytes come back undecoded for
 * {@link decodeFetchResponse}.
 */
async function fetchPartition(broker: KafkaBroker, tp: TopicPartition, offset: number, maxBytes: number): Promise<FetchedPartition> {
  const fetch = broker.versions?.[FETCH_API_KEY];
  if (fetch && (fetch.maxVersion < 11 || fetch.minVersion > 11)) {
    throw new TributaryError(`the broker does not speak Fetch v11 (it speaks v${fetch.minVersion}-v${fetch.maxVersion}): changelogs cannot be read`);
  }
  const { request, requestTimeout } = fetchV11({
    replicaId: -1,
    isolationLevel: 1,
    maxWaitTime: 0,
    minBytes: 1,
    maxBytes,
    topics: [{ topic: tp.topic, partitions: [{ partition: tp.partition, fetchOffset: String(offset), maxBytes }] }],
  });
  const raw = await sendRequestOf(broker).call(broker, {
    request,
    requestTimeout,
    response: { decode: async (data: Buffer) => ({ clientSideThrottleTime: data.readInt32BE(0), data }), parse: async (decoded: { data: Buffer }) => decoded.data },
  });
  return decodeFetchResponse(raw, tp, offset);
}

type SendRequest = (this: KafkaBroker, request: object) => Promise<Buffer>;
/** kafkajs' `private:Broker:sendRequest`: the broker's connection pool, closing the broker when its connection closed. */
function sendRequestOf(broker: KafkaBroker): SendRequest {
  for (let proto: object | null = broker; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const symbol = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'private:Broker:sendRequest');
    if (symbol !== undefined) return (proto as Record<symbol, SendRequest>)[symbol];
  }
  throw new TributaryError('this kafkajs version does not expose its broker request method (tributary needs kafkajs 2.2.x to read changelogs)');
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

  /**
   * Reads `[from, until)`. Records below the partition's log start (removed by retention or
   * `deleteRecords`: a table's topic with `cleanup.policy=compact,delete`, a purged repartition
   * topic) are not there to read: the read starts at the log start, as a consumer reading from
   * the earliest offset does.
   */
  async read(tp: TopicPartition, from: number, until: number, onRecords: (records: readonly LogRecord[]) => void): Promise<void> {
    let offset = Math.max(0, from);
    if (offset >= until) return;
    let first: FetchedPartition;
    try {
      first = await this.fetch(tp, offset);
    } catch (err) {
      if (!(err instanceof OffsetOutOfRangeError)) throw err;
      const start = await this.logStart(tp);
      if (start <= offset) throw kafkaError(`reading ${tp.topic}-${tp.partition} from offset ${offset}`, err);
      offset = start;
      if (offset >= until) return;
      first = await this.fetch(tp, offset);
    }
    // One fetch ahead: the next request is on the wire (and the broker reads it from disk)
    // while this batch is applied.
    let next: Promise<FetchedPartition> | undefined = Promise.resolve(first);
    while (next !== undefined) {
      const { records, lastOffset, highWatermark } = await next;
      next = undefined;
      // Where the next fetch starts: past this response's last batch, or past what compaction removed.
      const resume = lastOffset >= offset ? Math.min(until, lastOffset + 1) : highWatermark <= offset ? offset : Math.min(until, highWatermark);
      if (resume > offset && resume < until && resume < highWatermark) {
        next = this.fetch(tp, resume);
        next.catch(() => undefined); // awaited next round; not unhandled if onRecords throws
      }
      let count = records.length;
      while (count > 0 && records[count - 1].offset >= until) count--;
      if (count < records.length) records.length = count;
      if (count > 0) onRecords(records);
      // Nothing at or after `offset`: the partition ends before `until`.
      if (resume === offset) return;
      offset = resume;
    }
  }

  async endOffset(tp: TopicPartition): Promise<number> {
    return (await this.fetch(tp, 0, 1).catch(async (err: unknown) => {
      // Offset 0 is below the log start: ask from there (the response carries the end too).
      if (!(err instanceof OffsetOutOfRangeError)) throw err;
      return this.fetch(tp, await this.logStart(tp), 1);
    })).highWatermark;
  }

  /** The partition's log start (ListOffsets, earliest), from its leader. */
  private async logStart(tp: TopicPartition): Promise<number> {
    const broker = await this.leader(tp);
    const { responses } = await broker.listOffsets({ replicaId: -1, isolationLevel: 1, topics: [{ topic: tp.topic, partitions: [{ partition: tp.partition, timestamp: -2 }] }] });
    const offset = responses.find((r) => r.topic === tp.topic)?.partitions.find((p) => p.partition === tp.partition)?.offset;
    if (offset === undefined) throw new TributaryError(`no log start offset returned for ${tp.topic}-${tp.partition}`, { retriable: true });
    return Number(offset);
  }

  private async leader(tp: TopicPartition): Promise<KafkaBroker> {
    await this.connect();
    if (!this.topics.has(tp.topic)) {
      await this.cluster.addTargetTopic(tp.topic);
      this.topics.add(tp.topic);
    }
    const leader = this.cluster.findTopicPartitionMetadata(tp.topic).find((p) => p.partitionId === tp.partition)?.leader;
    if (leader === undefined) throw new TributaryError(`no leader known for ${tp.topic}-${tp.partition}`, { retriable: true });
    return this.cluster.findBroker({ nodeId: String(leader) });
  }

  async close(): Promise<void> {
    if (this.connected) await this.cluster.disconnect().catch(() => undefined);
    this.connected = undefined;
  }

  private async fetch(tp: TopicPartition, offset: number, maxBytes = this.maxBytes): Promise<FetchedPartition> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetchPartition(await this.leader(tp), tp, offset, maxBytes);
      } catch (err) {
        // Asked again, the same offset is out of range again: the caller decides (the log start).
        if (err instanceof OffsetOutOfRangeError) throw err;
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
