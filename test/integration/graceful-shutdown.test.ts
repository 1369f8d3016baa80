import { spawn } from 'node:child_process';
import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

describe('graceful shutdown on SIGTERM', () => {
  it('drains in-flight records, commits exactly what reached the sink, leaves the group and exits 0', async () => {
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: 0 });
    const admin = kafka.admin();
    await admin.connect();
    const input = uniqueName('graceful-in');
    const output = uniqueName('graceful-out');
    const id = uniqueName('graceful');
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    // Many small sends: the broker returns whole producer batches, so this makes many fetches.
    for (let b = 0; b < 100; b++) {
      await producer.send({ topic: input, messages: Array.from({ length: 50 }, (_, i) => ({ value: JSON.stringify({ n: b * 50 + i }) })) });
    }
    await producer.disconnect();

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/graceful-worker.ts', kafkaBrokers().join(','), input, output, id], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // SIGTERM in the middle of the run, with writes in flight.
    for (let i = 0; i < 600 && !/written \d{3,}/.test(stdout); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toMatch(/written \d{3,}/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const written = Math.max(...[...stdout.matchAll(/written (\d+)/g)].map((m) => Number(m[1])));
    expect(written).toBeLessThan(5_000); // it really stopped mid-run
    const [committed] = (await admin.fetchOffsets({ groupId: id, topics: [input] }))[0].partitions;
    const [end] = await admin.fetchTopicOffsets(output);
    expect(Number(end.high)).toBe(written); // everything the sink acknowledged is in the output topic
    expect(Number(committed.offset)).toBe(written); // and the commit is exactly there: nothing lost, nothing skipped
    const groups = await admin.describeGroups([id]);
    expect(groups.groups[0].members).toHaveLength(0); // it left the group
    await admin.disconnect();
  }, 120_000);
});
