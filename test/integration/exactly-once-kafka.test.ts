import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import type { LogRecord } from '../../src/connectors/log.js';
import { createLogger } from '../../src/observability/logger.js';
import { readTopic } from '../contract/read-topic.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';
import { readAllRecords } from '../helpers/read-all.js';

interface Total {
  readonly key: string;
  readonly total: number;
  readonly i: number;
}

const ORDERS = 3_000;
const KEYS = 12;
const order = (i: number): { k: string; amount: number; i: number } => ({ k: `k${i % KEYS}`, amount: 1 + ((i * 7919) % 13), i });

/** A worker process; with `selfSignal`, it sends itself that signal mid-transaction once it has encoded `at` results. */
function worker(input: string, output: string, id: string, selfSignal?: { signal: 'SIGKILL' | 'SIGSTOP'; at: number }): { child: ChildProcess; stdout: () => string; exited: Promise<number | null> } {
  const args = ['--import', 'tsx', 'test/integration/fixtures/eos-worker.ts', kafkaBrokers().join(','), input, output, id];
  if (selfSignal) args.push(selfSignal.signal, String(selfSignal.at));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, exited };
}

/** The totals per key in output order, and the reference: a plain loop's running totals. */
function byKey(records: readonly LogRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of records) {
    const t = JSON.parse(r.value!.toString()) as Total;
    if (!out.has(t.key)) out.set(t.key, []);
    out.get(t.key)!.push(t.i);
  }
  return out;
}
function reference(count: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (let i = 0; i < count; i++) {
    const { k } = order(i);
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(i);
  }
  return out;
}

describe("guarantee: 'exactly-once' on Kafka", () => {
  it('SIGKILL mid-transaction: nothing of the open transaction is visible read-committed, and the next owner makes the results exact, without a duplicate', async () => {
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: 0 });
    const admin = kafka.admin();
    await admin.connect();
    const input = uniqueName('eos-in');
    const output = uniqueName('eos-out');
    const id = uniqueName('eos');
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 2 }, { topic: output, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (let b = 0; b < ORDERS / 50; b++) {
      await producer.send({ topic: input, messages: Array.from({ length: 50 }, (_, j) => { const o = order(b * 50 + j); return { key: o.k, value: JSON.stringify(o) }; }) });
    }
    await producer.disconnect();
    const connector = new KafkaConnector({ brokers: kafkaBrokers() }, createLogger({ level: 'error' }));

    // The worker kills itself inside the encode that reaches 1,000 results: mid-transaction, on any machine.
    const first = worker(input, output, id, { signal: 'SIGKILL', at: 1_000 });
    const encodedNow = (): number => Math.max(0, ...[...first.stdout().matchAll(/encoded (\d+)/g)].map((m) => Number(m[1])));
    await first.exited;
    expect(first.stdout()).toMatch(/SIGKILL at \d+/);
    const encoded = encodedNow();
    expect(encoded).toBeGreaterThanOrEqual(1_000);
    expect(encoded).toBeLessThan(ORDERS); // killed mid-run

    // What a read-committed reader sees now: committed transactions only, each total once, in order.
    const visible = byKey(await readAllRecords(connector, output, 2));
    const expected = reference(ORDERS);
    let seen = 0;
    for (const [key, is] of visible) {
      seen += is.length;
      expect(is).toEqual(expected.get(key)!.slice(0, is.length));
    }
    expect(seen).toBeLessThan(encoded); // the killed owner's open transaction is not visible

    // The next owner fences the dead one's transactional ids (its open transactions aborted), restores and replays.
    const second = worker(input, output, id);
    await readTopic(connector, output, ORDERS, 90_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(byKey(await readAllRecords(connector, output, 2))).toEqual(expected);
    await admin.disconnect();
  }, 180_000);
  it('a zombie (SIGSTOP beyond the session timeout, then SIGCONT) is fenced: its late writes are not visible, and the results stay exact', async () => {
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: 0 });
    const admin = kafka.admin();
    await admin.connect();
    const input = uniqueName('eos-zin');
    const output = uniqueName('eos-zout');
    const id = uniqueName('eos-z');
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 2 }, { topic: output, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (let b = 0; b < ORDERS / 50; b++) {
      await producer.send({ topic: input, messages: Array.from({ length: 50 }, (_, j) => { const o = order(b * 50 + j); return { key: o.k, value: JSON.stringify(o) }; }) });
    }
    await producer.disconnect();
    const connector = new KafkaConnector({ brokers: kafkaBrokers() }, createLogger({ level: 'error' }));

    // The zombie stops itself inside the encode that reaches 1,000 results: mid-transaction, on any machine.
    const zombie = worker(input, output, id, { signal: 'SIGSTOP', at: 1_000 });
    const encodedNow = (): number => Math.max(0, ...[...zombie.stdout().matchAll(/encoded (\d+)/g)].map((m) => Number(m[1])));
    for (let i = 0; i < 900 && !/SIGSTOP at \d+/.test(zombie.stdout()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(zombie.stdout()).toMatch(/SIGSTOP at \d+/);
    const frozenAt = encodedNow();
    expect(frozenAt).toBeLessThan(ORDERS);

    // The next owner gets the partitions once the zombie's session (10 s) expires, and finishes.
    const owner = worker(input, output, id);
    await readTopic(connector, output, ORDERS, 120_000);
    // The zombie wakes up mid-transaction: fenced (its transactional ids were taken), it writes nothing visible.
    zombie.child.kill('SIGCONT');
    for (let i = 0; i < 100 && encodedNow() === frozenAt; i++) await new Promise((r) => setTimeout(r, 100));
    owner.child.kill('SIGTERM');
    zombie.child.kill('SIGTERM');
    expect(await owner.exited).toBe(0);
    await zombie.exited;
    expect(byKey(await readAllRecords(connector, output, 2))).toEqual(reference(ORDERS));
    await admin.disconnect();
  }, 240_000);
});
