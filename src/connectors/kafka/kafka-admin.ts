import type { Admin, Kafka } from 'kafkajs';
import { TributaryError } from '../../errors.js';
import type { LogAdmin, PartitionOffset, TopicSpec } from '../log.js';
import { kafkaError, kafkaRetriable } from './kafka-errors.js';

/**
 * Topic administration through the kafkajs admin client: creates the topics a processor needs,
 * and says clearly when a topic exists with another partition count or cannot be created.
 *
 * @example
 * const admin = new KafkaAdmin(kafka);
 * await admin.ensureTopics([{ name: 'page-views', partitions: 4 }]);
 * await admin.close();
 */
export class KafkaAdmin implements LogAdmin {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly defaultReplicationFactor = -1,
  ) {
    this.admin = kafka.admin();
  }

  /** The connected kafkajs admin (for the group consumer's offset look-ups). */
  async client(): Promise<Admin> {
    this.connected ??= this.admin.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw kafkaError('connecting the admin client', err);
    });
    await this.connected;
    return this.admin;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    const admin = await this.client();
    // A new topic's leaders may take a while to show in the metadata of a loaded broker (kafkajs
    // gives up waiting with a retriable UNKNOWN_TOPIC_OR_PARTITION): try again, 5 times in all.
    for (let attempt = 1; ; attempt++) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length === 0) break;
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor ?? this.defaultReplicationFactor,
            configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
        break;
      } catch (err) {
        // Another member may have created them meanwhile; anything else is reported with the topics' names.
        const now = new Set(await admin.listTopics());
        const stillMissing = missing.filter((t) => !now.has(t.name));
        if (stillMissing.length === 0) break;
        if (attempt >= 5 || !kafkaRetriable(err)) {
          throw kafkaError(`creating topics ${stillMissing.map((t) => t.name).join(', ')} (is topic creation allowed for this principal?)`, err);
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
    for (const spec of topics) {
      const count = await this.partitionCount(spec.name);
      if (count !== undefined && count !== spec.partitions) {
        throw new TributaryError(`topic ${spec.name} exists with ${count} partitions, but ${spec.partitions} are configured`);
      }
    }
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    const admin = await this.client();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]?.partitions.length;
    } catch (err) {
      if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
      throw kafkaError(`reading metadata of ${topic}`, err);
    }
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const admin = await this.client();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ topic, partition: o.partition, offset: Number(o.high) }));
  }

  async startOffsets(topic: string): Promise<PartitionOffset[]> {
    const admin = await this.client();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((o) => ({ topic, partition: o.partition, offset: Number(o.low) }));
    } catch (err) {
      throw kafkaError(`reading the log start offsets of ${topic}`, err);
    }
  }

  /**
   * `DeleteRecords` to each partition's leader (kafkajs' `deleteTopicRecords`), after one
   * `ListOffsets`: an offset past the partition's end is taken as the end (the broker would refuse
   * it), and a partition already starting at or past its offset is left out (kafkajs would log a
   * warning for it, and the broker change nothing).
   */
  async deleteRecords(topic: string, offsets: readonly { readonly partition: number; readonly offset: number }[]): Promise<void> {
    if (offsets.length === 0) return;
    for (const { offset } of offsets) {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new TributaryError(`deleting records of ${topic}: the offset must be a non-negative integer, got ${String(offset)}`);
    }
    const admin = await this.client();
    let current: Map<number, { low: number; high: number }>;
    try {
      current = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
    } catch (err) {
      throw kafkaError(`reading the offsets of ${topic} to delete records`, err);
    }
    const partitions: { partition: number; offset: string }[] = [];
    for (const { partition, offset } of offsets) {
      const bounds = current.get(partition);
      if (bounds === undefined) throw new TributaryError(`topic ${topic} has no partition ${partition}: no records deleted`);
      const below = Math.min(offset, bounds.high);
      if (below > bounds.low) partitions.push({ partition, offset: String(below) });
    }
    if (partitions.length === 0) return;
    try {
      await admin.deleteTopicRecords({ topic, partitions });
    } catch (err) {
      throw kafkaError(`deleting records of ${topic} below ${partitions.map((p) => `${p.offset} (partition ${p.partition})`).join(', ')}`, err);
    }
  }

  async topicConfig(topic: string): Promise<Readonly<Record<string, string>> | undefined> {
    if ((await this.partitionCount(topic)) === undefined) return undefined;
    const admin = await this.client();
    try {
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: topic }] });
      const config: Record<string, string> = {};
      for (const entry of described.resources[0]?.configEntries ?? []) config[entry.configName] = entry.configValue;
      return config;
    } catch (err) {
      throw kafkaError(`reading the configuration of ${topic}`, err);
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
    this.connected = undefined;
  }
}
