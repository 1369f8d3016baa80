import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createDefaultPartitioner, murmur2, partitionForKey, toPositive } from '../../../src/connectors/partitioner.js';

const require = createRequire(import.meta.url);
/** kafkajs' own Java-compatible murmur2 (the one its DefaultPartitioner uses). */
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

/** kafkajs' DefaultPartitioner for a topic with `count` partitions, all with a leader. */
function kafkajsPartition(key: Buffer | string | null, count: number, partition?: number): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata, message: { key, value: null, partition } });
}

describe('murmur2', () => {
  it("matches the Java client's vectors from Kafka's UtilsTest", () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
      ['', 275646681],
    ];
    for (const [input, expected] of vectors) expect(murmur2(Buffer.from(input)), input).toBe(expected);
  });

  it('matches the vectors kafkajs generated with the Java implementation', () => {
    const vectors: Record<string, number> = {
      '0': 971027396,
      '1': -1993445489,
      '128': -326012175,
      '2187': -1508407203,
      '16384': -325739742,
      '78125': -1654490814,
      '279936': 1462227128,
      '823543': -2014198330,
      '2097152': 607668903,
      '4782969': -1182699775,
      '10000000': -1830336757,
      '19487171': -1603849305,
      '35831808': -857013643,
      '62748517': -1167431028,
      '105413504': -381294639,
      '170859375': -1658323481,
      '100:48069': 1009543857,
    };
    for (const [input, expected] of Object.entries(vectors)) expect(murmur2(Buffer.from(input)), input).toBe(expected);
  });

  it("equals kafkajs' murmur2 on random bytes of every length remainder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 67 }), (bytes) => {
        const data = Buffer.from(bytes);
        expect(murmur2(data)).toBe(kafkajsMurmur2(data));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns a signed 32-bit integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
        const h = murmur2(bytes);
        expect(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31).toBe(true);
      }),
    );
  });
});

describe('toPositive', () => {
  it('clears the sign bit instead of taking the absolute value', () => {
    expect(toPositive(5)).toBe(5);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-(2 ** 31))).toBe(0);
  });
});

describe('the default partitioner', () => {
  it("puts string keys on the same partition as kafkajs' DefaultPartitioner", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: 'binary' }), fc.integer({ min: 1, max: 1000 }), (key, count) => {
        expect(partitionForKey(key, count)).toBe(kafkajsPartition(key, count));
      }),
      { numRuns: 1000 },
    );
  }, 60_000);

  it("puts binary keys on the same partition as kafkajs' DefaultPartitioner", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (bytes, count) => {
        const key = Buffer.from(bytes);
        expect(createDefaultPartitioner()({ topic: 't', partitionCount: count, key })).toBe(kafkajsPartition(key, count));
      }),
      { numRuns: 1000 },
    );
  }, 60_000);

  it('lets an explicit partition win over the key', () => {
    const partition = createDefaultPartitioner();
    expect(partition({ topic: 't', partitionCount: 12, key: 'user-1', partition: 7 })).toBe(7);
    expect(kafkajsPartition('user-1', 12, 7)).toBe(7);
  });

  it('hashes an empty key rather than treating it as no key', () => {
    const partition = createDefaultPartitioner();
    const expected = toPositive(275646681) % 12;
    expect(partition({ topic: 't', partitionCount: 12, key: '' })).toBe(expected);
    expect(partition({ topic: 't', partitionCount: 12, key: '' })).toBe(expected);
  });

  it('sends keyless records round-robin per topic, starting at partition 0', () => {
    const partition = createDefaultPartitioner();
    const a = [0, 1, 2, 3, 4].map(() => partition({ topic: 'a', partitionCount: 3, key: null }));
    const b = [0, 1].map(() => partition({ topic: 'b', partitionCount: 3 }));
    expect(a).toEqual([0, 1, 2, 0, 1]);
    expect(b).toEqual([0, 1]);
  });
});
