/**
 * Kafka's default key → partition mapping, so that a key lands on the same partition number
 * whether MemoryLog, kafkajs' `DefaultPartitioner` or the Java client wrote it:
 * `toPositive(murmur2(keyBytes)) % partitionCount`.
 *
 * A port of `org.apache.kafka.common.utils.Utils.murmur2` (seed `0x9747b28c`), in 32-bit
 * integer arithmetic (`Math.imul`) instead of kafkajs' `Long`: the Java int result needs only
 * the low 32 bits, which `Math.imul` and `>>>` compute exactly.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 hash of `data`, as the Java client's signed 32-bit `int`.
 *
 * @example
 * murmur2(Buffer.from('foobar')); // -790332482, as in Kafka's UtilsTest
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's fall-through switch on length % 4, written as ifs (no case fall-through here).
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `toPositive`: clears the sign bit (not `Math.abs`, which differs for negatives). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** Key bytes as Kafka hashes them: strings as UTF-8. */
export function keyBytes(key: Buffer | string): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/**
 * The partition Kafka's default partitioner gives a non-null key.
 *
 * @example
 * partitionForKey('user-1', 12); // the same number kafkajs and the Java producer give
 */
export function partitionForKey(key: Buffer | string, partitionCount: number): number {
  return toPositive(murmur2(keyBytes(key))) % partitionCount;
}

/** What a partitioner is asked: where should this record of `topic` go? */
export interface PartitionRequest {
  readonly topic: string;
  readonly partitionCount: number;
  readonly key?: Buffer | string | null;
  /** An explicit partition: it wins over the key. */
  readonly partition?: number;
}

/** Picks the partition of one record. */
export type Partitioner = (request: PartitionRequest) => number;

/**
 * Kafka's default partitioner, as kafkajs' `DefaultPartitioner`:
 * - an explicit `partition` wins (range-checking is the caller's job);
 * - a key (`''` included) picks `toPositive(murmur2(key)) % partitionCount`;
 * - a null or absent key goes round-robin, per topic. kafkajs starts each topic's counter at a
 *   random value; this one starts at 0 so that runs are reproducible: the first keyless record
 *   of a topic goes to partition 0, the next to 1, and so on.
 *
 * Each call returns a partitioner with its own round-robin counters (one per producer).
 *
 * @example
 * const partition = createDefaultPartitioner();
 * partition({ topic: 'clicks', partitionCount: 3, key: 'user-1' }); // murmur2
 * partition({ topic: 'clicks', partitionCount: 3 });                // 0, then 1, 2, 0, ...
 */
export function createDefaultPartitioner(): Partitioner {
  const counters = new Map<string, number>();
  return ({ topic, partitionCount, key, partition }) => {
    if (typeof partition === 'number') return partition;
    if (key !== undefined && key !== null) return partitionForKey(key, partitionCount);
    const next = counters.get(topic) ?? 0;
    counters.set(topic, (next + 1) & 0x7fffffff);
    return next % partitionCount;
  };
}
