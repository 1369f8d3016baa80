import { connect, type NatsConnection } from '@nats-io/transport-node';
import { map } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTributary } from '../../src/app/tributary.js';
import { MemoryLog } from '../../src/connectors/memory/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import { toNatsSubject } from '../../src/sinks/nats-sink.js';
import { eventually } from '../contract/read-topic.js';
import { natsUrl } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: 'silent' });

describe('the NATS subject sink and the HTTP endpoint', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: natsUrl() });
  });
  afterAll(async () => {
    await nc.drain();
  });

  it('publishes every result to a real NATS subject for live dashboards', async () => {
    const subject = uniqueName('live.results').replaceAll('-', '_');
    const received: unknown[] = [];
    const sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) received.push(m.json());
    })();
    await nc.flush();
    const log = new MemoryLog();
    log.createTopic('clicks', 2);
    await log.producer().send('clicks', Array.from({ length: 20 }, (_, i) => ({ key: `u${i}`, value: JSON.stringify({ n: i }) })));
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { n: number }>({
          id: 'live',
          source: { topics: 'clicks' },
          pipeline: (records) => records.pipe(map((r) => ({ n: r.value.n, doubled: r.value.n * 2 }))),
          sinks: toNatsSubject(subject, { connection: nc }),
        }),
      ],
    });
    await app.start();
    try {
      await eventually(() => expect(received).toHaveLength(20));
      expect(new Set(received.map((r) => (r as { doubled: number }).doubled))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i * 2)));
    } finally {
      await app.stop();
      sub.unsubscribe();
    }
  });

  it('serves /metrics with record counters and /health with the partitions', async () => {
    const log = new MemoryLog();
    log.createTopic('in', 1);
    await log.producer().send('in', [{ value: '{"n":1}' }, { value: 'not json' }]);
    const app = createTributary({
      log,
      logger,
      httpPort: 0,
      processors: [defineProcessor({ id: 'observed', source: { topics: 'in' }, pipeline: (r) => r, sinks: { write: async () => {}, name: 'noop' } })],
    });
    await app.start();
    try {
      await eventually(async () => {
        const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
        expect(metrics).toMatch(/tributary_records_in_total\{processor="observed",topic="in",partition="0"\} 2/);
        expect(metrics).toMatch(/tributary_dead_letters_total\{processor="observed",reason="deserialization"\} 1/);
      });
      const health = await fetch(`${app.httpUrl}/health`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as { ok: boolean; processors: Array<{ id: string; partitions: Array<{ state: string }> }> };
      expect(body.ok).toBe(true);
      expect(body.processors[0].partitions[0].state).toBe('running.flowing');
    } finally {
      await app.stop();
    }
    const after = await fetch(`${app.httpUrl}/health`).catch((err: unknown) => err);
    expect(after).toBeInstanceOf(Error); // the endpoint is closed with the app
  });
});
