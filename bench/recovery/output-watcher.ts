/**
 * Reads the recovery scenario's output topic from the start and keeps, for every result, when the
 * broker appended it (the topic is created with `message.timestamp.type=LogAppendTime`, so the
 * record timestamp is the broker's append time: the watcher's own fetch delay does not count)
 * and what its value says: the input's timestamp, partition, offset, and the worker that wrote it.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface OutputEvent {
  /** Broker append time of the result (epoch ms). */
  readonly appendMs: number;
  /** The input record's timestamp: when the producer sent it (epoch ms). */
  readonly ts: number;
  /** The input record's partition and offset. */
  readonly partition: number;
  readonly offset: number;
  /** The worker that wrote the result. */
  readonly worker: string;
}

export class OutputWatcher {
  readonly events: OutputEvent[] = [];
  /** Distinct input records with a result (partition × offset): the rest are replays. */
  private readonly seen = new Set<number>();
  /** When this process first saw a result (epoch ms), 0 before. */
  firstSeenAt = 0;
  private readonly consumer: Consumer;

  constructor(brokers: readonly string[], private readonly topic: string, groupId: string) {
    const kafka = new Kafka({ clientId: 'bench-recovery-watcher', brokers: [...brokers], logLevel: logLevel.WARN });
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  }

  /** Results of distinct input records so far. */
  get distinct(): number {
    return this.seen.size;
  }

  /** Joins (fromBeginning) and resolves once the watcher owns the output's partitions. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve) => this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve()));
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        if (this.firstSeenAt === 0 && batch.messages.length > 0) this.firstSeenAt = Date.now();
        for (const m of batch.messages) {
          const v = JSON.parse(m.value!.toString('utf8')) as { ts: number; p: number; o: number; w: string };
          this.events.push({ appendMs: Number(m.timestamp), ts: v.ts, partition: v.p, offset: v.o, worker: v.w });
          // Offsets stay far below 2^32 here: partition × 2^32 + offset is exact in a double.
          this.seen.add(v.p * 2 ** 32 + v.o);
        }
      },
    });
    await joined;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
