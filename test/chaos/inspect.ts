// Forensics for a failed chaos run (its broker's data is kept): starts the run's broker again on
// its data and ports, answers one question, stops it.
//
//   tsx test/chaos/inspect.ts <run dir> commits <group> <topic> <partition>
//       every offset commit of that partition, with its time and resume-point metadata
//       (decoded from __consumer_offsets)
//   tsx test/chaos/inspect.ts <run dir> records <topic> <partition> <from offset> <to offset>
//       the records in that range: offset, create time, key, headers, value (cut at 4,000 chars)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaBroker } from '../../scripts/services/index.js';
import type { RunServices } from './run-services.js';



interface Commit {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
}

async function consumeAll(kafka: Kafka, topic: string, onMessage: (m: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; partition: number; headers: Record<string, unknown> }) => void, until: (partition: number, offset: number) => boolean): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets: Array<{ partition: number; high: string }>;
  for (let attempt = 0; ; attempt++) {
    try {
      offsets = await admin.fetchTopicOffsets(topic);
      break;
    } catch (err) {
      // Leaders settle a few seconds after the broker starts.
      if (attempt > 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const positions = new Map<number, number>();
  let lastMessageAt = Date.now();
  const consumer = kafka.consumer({ groupId: `inspect-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      positions.set(partition, Number(message.offset) + 1);
      lastMessageAt = Date.now();
      onMessage({ ...message, partition, headers: message.headers ?? {} });
    },
  });
  // Control batches (transaction markers of the group coordinator) are never delivered: a
  // partition may end short of its high watermark, hence the idle timeout.
  const done = (): boolean =>
    [...ends].every(([p, end]) => (positions.get(p) ?? 0) >= end || until(p, positions.get(p) ?? 0)) || Date.now() - lastMessageAt > 5_000;
  while (!done()) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
}

async function readCommits(kafka: Kafka, wanted: (group: string, topic: string, partition: number) => boolean): Promise<Commit[]> {
  const commits: Commit[] = [];
  await consumeAll(
    kafka,
    '__consumer_offsets',
    ({ key, value }) => {
      if (!key || !value) return;
      const k = new Reader(key);
      const keyVersion = k.int16();
      if (keyVersion > 1) return; // group metadata
      const group = k.string();
      const topic = k.string();
      const partition = k.int32();
      if (!wanted(group, topic, partition)) return;
      const v = new Reader(value);
      const version = v.int16();
      const offset = Number(v.int64());
      if (version >= 3) v.int32(); // leader epoch
      const metadata = version >= 4 ? v.compactString() : v.string();
      const commitTimestamp = Number(v.int64());
      commits.push({ group, topic, partition, offset, metadata, commitTimestamp });
    },
    () => false,
  );
  return commits;
}

async function readRange(kafka: Kafka, topic: string, partition: number, from: number, to: number): Promise<string[]> {
  const lines: string[] = [];
  await consumeAll(
    kafka,
    topic,
    (m) => {
      const offset = Number(m.offset);
      if (m.partition !== partition || offset < from || offset > to) return;
      const headers = Object.entries(m.headers)
        .map(([name, value]) => `${name}=${String(value)}`)
        .join(' ');
      lines.push(`${offset} ${new Date(Number(m.timestamp)).toISOString()} key=${m.key?.toString() ?? 'null'} ${headers} ${(m.value?.toString() ?? 'null').slice(0, 4000)}`);
    },
    (p, position) => p !== partition || position > to,
  );
  return lines.sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0]));
}

class Reader {
  private at = 0;
  constructor(private readonly buffer: Buffer) {}
  int16(): number {
    const v = this.buffer.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buffer.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64(): bigint {
    const v = this.buffer.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  string(): string {
    const length = this.int16();
    if (length < 0) return '';
    const v = this.buffer.toString('utf8', this.at, this.at + length);
    this.at += length;
    return v;
  }
  compactString(): string {
    let length = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buffer[this.at++];
      length |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    if (length === 0) return '';
    const v = this.buffer.toString('utf8', this.at, this.at + length - 1);
    this.at += length - 1;
    return v;
  }
}

async function main(): Promise<void> {
  const [runDir, command, ...rest] = process.argv.slice(2);
  if (!runDir || !command) {
    process.stderr.write('usage: tsx test/chaos/inspect.ts <run dir> commits <group> <topic> <partition> | records <topic> <partition> <from> <to>\n');
    process.exit(2);
  }
  const services = JSON.parse(readFileSync(join(runDir, 'services.json'), 'utf8')) as RunServices;
  const broker = await startKafkaBroker({ dir: services.brokerDir, fresh: false, port: services.brokerPort, controllerPort: services.controllerPort });
  const kafka = new Kafka({ brokers: [...broker.brokers], logLevel: logLevel.ERROR });
  try {
    if (command === 'commits') {
      const [group, topic, partition] = rest;
      for (const c of await readCommits(kafka, (g, t, p) => g === group && t === topic && p === Number(partition))) {
        process.stdout.write(`${new Date(c.commitTimestamp).toISOString()} offset ${c.offset} ${c.metadata}\n`);
      }
    } else if (command === 'records') {
      const [topic, partition, from, to] = rest;
      for (const r of await readRange(kafka, topic, Number(partition), Number(from), Number(to))) process.stdout.write(`${r}\n`);
    } else {
      throw new Error(`unknown command ${command}`);
    }
  } finally {
    await broker.stop();
  }
  process.exit(0);
}

await main();
