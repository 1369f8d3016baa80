// The chaos input: seeded events with per-key sequence numbers and bounded disorder (Flink's
// allround test), plus the bad records the schedule injects.
import { partitionForKey } from '../../src/connectors/partitioner.js';
import type { ChaosEvent } from './count-topology.js';
import { seededRandom, type Random } from './random.js';

/** How the input is generated. */
export interface InputSettings {
  readonly seed: number;
  /** Input keys `k0`..: each has its own sequence numbers. */
  readonly keys: number;
  /** Repartition keys `g0`..; picked at random per event. */
  readonly groups: number;
  /** Events per second; event time advances 1,000 / rate ms per event. */
  readonly ratePerSec: number;
  /** The out-of-orderness bound: each event's time is its nominal time minus [0, bound). */
  readonly boundMs: number;
  /** Event time of event 0. */
  readonly t0: number;
  readonly inputPartitions: number;
}

/** One record for the input topic. */
export interface InputRecord {
  readonly key: string;
  readonly partition: number;
  readonly value: string;
  /** Nominal event time: where the generator was when it made the record. */
  readonly nominal: number;
}

/** The kinds of bad input the schedule injects. */
export type BadInputKind = 'poison' | 'malformed' | 'oversized' | 'proto' | 'skew';

/**
 * Where each kind of bad line must end: the dead-letter reasons it may carry (`skew`: counted or
 * late, never lost). Some malformed lines are valid JSON without a valid `ts` (an array, a
 * string timestamp): the timestamp extractor rejects those.
 */
export const EXPECTED_DEAD_LETTER: Readonly<Record<Exclude<BadInputKind, 'skew'>, readonly string[]>> = {
  poison: ['poison'],
  malformed: ['deserialization', 'timestamp'],
  oversized: ['oversized'],
  proto: ['deserialization'],
};

/** The key of the records that end the input: one per partition. */
export const FLUSH_KEY = 'flush';
/** Bad lines that carry no event are keyed `bad-<kind>-<n>`. */
export const BAD_KEY_PREFIX = 'bad-';

/**
 * The seeded event sequence. Normal events come from one random stream and bad ones from
 * another, so injecting bad input does not change the normal events that follow.
 *
 * @example
 * const input = new InputGenerator({ seed: 7, keys: 32, groups: 8, ratePerSec: 200, boundMs: 1_500, t0: 0, inputPartitions: 6 });
 * input.next(); // { key: 'k12', partition: 3, value: '{"k":"k12","seq":0,...}', nominal: 0 }
 */
export class InputGenerator {
  private readonly random: Random;
  private readonly badRandom: Random;
  private readonly seqs = new Map<string, number>();
  private index = 0;
  private badCount = 0;
  private readonly partitionOf = new Map<string, number>();

  constructor(readonly settings: InputSettings) {
    this.random = seededRandom(settings.seed);
    this.badRandom = seededRandom(settings.seed ^ 0x5bad);
    const covered = new Set<number>();
    for (let k = 0; k < settings.keys; k++) covered.add(this.partition(`k${k}`));
    if (covered.size !== settings.inputPartitions) {
      throw new Error(`${settings.keys} keys cover only ${covered.size} of ${settings.inputPartitions} input partitions: use more keys`);
    }
  }

  get ratePerSec(): number {
    return this.settings.ratePerSec;
  }

  /** Normal events generated so far. */
  get generated(): number {
    return this.index;
  }

  /** Nominal event time of the next event. */
  get nominal(): number {
    return this.settings.t0 + Math.floor((this.index * 1000) / this.settings.ratePerSec);
  }

  /** The next normal event. */
  next(): InputRecord {
    const nominal = this.nominal;
    this.index++;
    const k = `k${this.random.int(0, this.settings.keys - 1)}`;
    const g = `g${this.random.int(0, this.settings.groups - 1)}`;
    const ts = nominal - this.random.int(0, this.settings.boundMs - 1);
    return this.event({ k, seq: this.nextSeq(k), ts, g }, nominal);
  }

  /** `count` bad records of `kind`. */
  bad(kind: BadInputKind, count: number): InputRecord[] {
    return Array.from({ length: count }, () => this.oneBad(kind));
  }

  /** The record that ends `partition`: its event time moves the watermark past every window. */
  flush(partition: number, ts: number): InputRecord {
    const event: ChaosEvent = { k: FLUSH_KEY, seq: -1, ts, g: FLUSH_KEY, flush: true };
    return { key: FLUSH_KEY, partition, value: JSON.stringify(event), nominal: ts };
  }

  private oneBad(kind: BadInputKind): InputRecord {
    const r = this.badRandom;
    const nominal = this.nominal;
    const n = this.badCount++;
    const k = `k${r.int(0, this.settings.keys - 1)}`;
    const g = `g${r.int(0, this.settings.groups - 1)}`;
    switch (kind) {
      case 'poison':
        return this.event({ k, seq: this.nextSeq(k), ts: nominal - r.int(0, this.settings.boundMs - 1), g, poison: true }, nominal);
      case 'skew':
        // Behind the bound by 1 to 8 s: late if its window has fired downstream, else counted.
        return this.event({ k, seq: this.nextSeq(k), ts: nominal - this.settings.boundMs - r.int(1_000, 8_000), g, skew: true }, nominal);
      case 'malformed': {
        const lines = [
          `{"k":"${k}","seq":`,
          'not json at all',
          `{"k":"${k}","ts":12,}`,
          '\u0000\u0001\u0002',
          `["${k}",1,2]`,
          `{"k":"${k}","seq":"seven","ts":"later","g":"${g}"}`,
        ];
        return this.badRecord(kind, n, r.pick(lines), nominal);
      }
      case 'oversized': {
        // Valid JSON, but far beyond the workers' maxRecordBytes (64 KiB).
        const pad = 'x'.repeat(r.int(80_000, 120_000));
        return this.badRecord(kind, n, JSON.stringify({ k, seq: -1, ts: nominal, g, pad }), nominal);
      }
      case 'proto': {
        const lines = [
          `{"k":"${k}","seq":-1,"ts":${nominal},"g":"${g}","__proto__":{"poison":true,"polluted":1}}`,
          `{"__proto__":{"flush":true},"k":"${k}","seq":-1,"ts":${nominal},"g":"${g}"}`,
          `{"k":"${k}","seq":-1,"ts":${nominal},"g":"${g}","constructor":{"prototype":{"polluted":1}}}`,
        ];
        return this.badRecord(kind, n, r.pick(lines), nominal);
      }
    }
  }

  private badRecord(kind: BadInputKind, n: number, value: string, nominal: number): InputRecord {
    const key = `${BAD_KEY_PREFIX}${kind}-${n}`;
    return { key, partition: this.partition(key), value, nominal };
  }

  private event(event: ChaosEvent, nominal: number): InputRecord {
    return { key: event.k, partition: this.partition(event.k), value: JSON.stringify(event), nominal };
  }

  private nextSeq(k: string): number {
    const seq = this.seqs.get(k) ?? 0;
    this.seqs.set(k, seq + 1);
    return seq;
  }

  private partition(key: string): number {
    let p = this.partitionOf.get(key);
    if (p === undefined) {
      p = partitionForKey(key, this.settings.inputPartitions);
      this.partitionOf.set(key, p);
    }
    return p;
  }
}
