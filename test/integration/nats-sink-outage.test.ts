// The NATS sink while its server is down: the client buffers up to maxBufferedBytes, the rest is
// dropped and counted (never unbounded memory), and publishing resumes once the server is back.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '../../scripts/services/index.js';
import { MemoryLog } from '../../src/connectors/memory/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { TributaryMetrics } from '../../src/observability/metrics.js';
import { toNatsSubject } from '../../src/sinks/nats-sink.js';
import { eventually } from '../contract/read-topic.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });

describe('the NATS subject sink during a nats-server outage', () => {
  let server: NatsServerHandle;
  let publisher: NatsConnection;
  let reader: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer({ name: 'sink-outage', jetstream: false });
    const options = { servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 };
    publisher = await connect(options);
    reader = await connect(options);
  }, 60_000);
  afterAll(async () => {
    await publisher?.close();
    await reader?.close();
    await server?.destroy();
  });

  it('buffers up to maxBufferedBytes, drops and counts the rest, and publishes again once reconnected', async () => {
    const received: number[] = [];
    const sub = reader.subscribe('live.outage');
    void (async () => {
      for await (const m of sub) received.push(m.json<{ n: number }>().n);
    })();
    await reader.flush();
    const metrics = new TributaryMetrics();
    const sink = toNatsSubject<{ n: number; pad: string }>('live.outage', { connection: publisher, maxBufferedBytes: 10_000 });
    const log = new MemoryLog();
    await sink.start!({ processorId: 'live', log, producer: log.producer(), logger, metrics });
    const item = (n: number) => ({ n, pad: 'x'.repeat(990) }); // ~1,000 bytes as JSON

    await sink.write([0, 1, 2].map(item));
    await eventually(() => expect(received).toEqual([0, 1, 2]));

    const statuses: string[] = [];
    void (async () => {
      for await (const s of publisher.status()) statuses.push(s.type);
    })();
    await server.stop();
    await eventually(() => expect(statuses).toContain('disconnect'), 10_000);
    await sink.write(Array.from({ length: 50 }, (_, i) => item(100 + i)));
    const dropped = await metrics.registry.getSingleMetric('tributary_sink_dropped_total')!.get();
    // 9 items of ~1,007 bytes fit in 10,000 bytes; the other 41 are dropped.
    expect(dropped.values).toEqual([{ labels: { processor: 'live', sink: 'nats:live.outage', reason: 'disconnected' }, value: 41 }]);

    await server.start();
    await eventually(() => expect(statuses).toContain('reconnect'), 15_000);
    // The reader reconnects on its own time: publish until it hears again (at-most-once meanwhile).
    for (let n = 1000; !received.some((r) => r >= 1000); n++) {
      await sink.write([item(n)]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(received.filter((n) => n >= 109 && n < 150)).toEqual([]); // what was beyond the buffer never got through
    await sink.stop!();
    sub.unsubscribe();
  }, 60_000);
});
