import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { firstValueFrom, filter } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BroadcastError, BroadcastState, type BroadcastValue } from '../../../src/cluster/index.js';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startNatsServer, type NatsServerHandle } from '../../../scripts/services/index.js';
import { natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';

const logger = createLogger({ level: 'silent' });
const Limits = z.strictObject({ maxPerMinute: z.number().int().positive(), label: z.string() });
type Limits = z.infer<typeof Limits>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('BroadcastState on a real nats-server', () => {
  let nc: NatsConnection;
  const clusters: string[] = [];
  const cluster = (): string => {
    const name = uniqueName('bc');
    clusters.push(name);
    return name;
  };
  const open = (c: string, extra: Partial<Parameters<typeof BroadcastState.open<Limits>>[0]> = {}) =>
    BroadcastState.open<Limits>({ cluster: c, name: 'limits', schema: Limits, servers: natsUrl(), logger, ...extra });

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl() });
  });

  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    for (const c of clusters) await jsm.streams.delete(`KV_tributary-${c}-broadcast`).catch(() => undefined);
    await nc.close();
  });

  it('gives a node that joins later the latest value, and every node each new one', async () => {
    const c = cluster();
    const first = await open(c);
    expect(first.current()).toBeUndefined();
    await first.publish({ maxPerMinute: 5, label: 'a' });
    const revision = await first.publish({ maxPerMinute: 7, label: 'b' });
    expect(first.current()).toEqual({ maxPerMinute: 7, label: 'b' });

    const late = await open(c);
    expect(late.current()).toEqual({ maxPerMinute: 7, label: 'b' });
    expect(late.latest()?.revision).toBe(revision);
    expect(first.subject).toBe(`$KV.tributary-${c}-broadcast.limits`);

    const seen: Array<BroadcastValue<Limits>> = [];
    late.changes.subscribe((v) => seen.push(v));
    expect(seen.map((v) => v.value.label)).toEqual(['b']); // the current value at once
    const third = await first.publish({ maxPerMinute: 9, label: 'c' });
    await eventually(() => late.latest()?.revision === third, 5_000, 'the third value');
    expect(seen.map((v) => v.value.label)).toEqual(['b', 'c']);
    await Promise.all([first.close(), late.close()]);
  });

  it('refuses to publish an invalid value, and keeps different clusters apart', async () => {
    const a = await open(cluster());
    // On a connection of the caller's (left open by close()).
    const b = await BroadcastState.open<Limits>({ cluster: cluster(), name: 'limits', schema: Limits, connection: nc, logger });
    await expect(a.publish({ maxPerMinute: 0, label: 'x' })).rejects.toThrow(BroadcastError);
    await expect(a.publish({ maxPerMinute: 1 } as Limits)).rejects.toThrow(/label/);
    await a.publish({ maxPerMinute: 3, label: 'only-a' });
    await sleep(200);
    expect(b.current()).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
    expect(nc.isClosed()).toBe(false);
  });

  it('rejects, counts and logs a malformed value without changing the current one or crashing', async () => {
    const c = cluster();
    const registry = new Registry();
    const reasons: string[] = [];
    const node = await open(c, { registry });
    node.rejections.subscribe((r) => reasons.push(r.reason));
    await node.publish({ maxPerMinute: 4, label: 'good' });
    const kv = await new Kvm(nc).open(`tributary-${c}-broadcast`);
    const envelope = (value: unknown, overrides: Record<string, unknown> = {}) =>
      JSON.stringify({ v: 1, cluster: c, name: 'limits', value, publishedAt: Date.now(), publisher: 'test', ...overrides });
    const bad = [
      'not json',
      '{"v":1,"cluster"', // truncated
      JSON.stringify({ maxPerMinute: 3, label: 'bare value, no envelope' }),
      envelope({ maxPerMinute: 3, label: 'x' }, { v: 2 }), // a future envelope version
      envelope({ maxPerMinute: -3, label: 'x' }), // the schema refuses it
      envelope({ maxPerMinute: 3, label: 'x', extra: true }), // strict schema: unknown key
      envelope({ maxPerMinute: 3, label: 'x' }, { name: 'other' }), // another value's envelope
      `{"__proto__":{"polluted":true},"v":1,"cluster":"${c}","name":"limits","value":{"maxPerMinute":3,"label":"x"},"publishedAt":1,"publisher":"t"}`,
    ];
    for (const payload of bad) await kv.put('limits', payload);
    await eventually(() => node.rejected === bad.length, 5_000, 'every malformed value rejected');
    expect(node.current()).toEqual({ maxPerMinute: 4, label: 'good' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(reasons[0]).toMatch(/not JSON/);
    expect(reasons[3]).toMatch(/version 1 envelope/);
    expect(reasons[4]).toMatch(/invalid value: maxPerMinute/);
    expect(reasons[6]).toMatch(/not .*\/limits/);
    expect(reasons[7]).toMatch(/forbidden key|prototype/i);
    const metric = await registry.getSingleMetric('tributary_broadcast_rejected_total')!.get();
    expect(metric.values[0].value).toBe(bad.length);

    // A node opening now reads the malformed latest value: rejected, no current value, no throw.
    const joiner = await open(c);
    expect(joiner.current()).toBeUndefined();
    expect(joiner.rejected).toBe(1);

    // A good value afterwards is accepted by both.
    const revision = await node.publish({ maxPerMinute: 6, label: 'good again' });
    await eventually(() => joiner.latest()?.revision === revision, 5_000, 'the good value at the joiner');
    expect(node.current()?.label).toBe('good again');
    await Promise.all([node.close(), joiner.close()]);
  });

  it('checks its options before connecting, and says clearly when NATS cannot be reached', async () => {
    const base = { cluster: 'c', name: 'n', schema: Limits, servers: natsUrl() };
    await expect(BroadcastState.open({ ...base, cluster: 'a.b' })).rejects.toThrow(ConfigError);
    await expect(BroadcastState.open({ ...base, name: 'bad name' })).rejects.toThrow(/broadcast.name/);
    await expect(BroadcastState.open({ ...base, servers: undefined })).rejects.toThrow(/either `connection` or `servers`/);
    await expect(BroadcastState.open({ ...base, history: 0 })).rejects.toThrow(/broadcast.history/);
    const unreachable = BroadcastState.open({ ...base, servers: 'nats://127.0.0.1:1' });
    await expect(unreachable).rejects.toThrow(BroadcastError);
    await expect(unreachable).rejects.toThrow(/cannot connect to NATS at nats:\/\/127.0.0.1:1/);
  });
});

describe('BroadcastState when nats-server goes away for a while', () => {
  let server: NatsServerHandle;
  beforeAll(async () => {
    server = await startNatsServer({ name: 'broadcast-outage' });
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('keeps its value while the server is down, does not crash, and follows new values once it is back', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const options = { cluster: 'outage', name: 'limits', schema: Limits, servers: server.url, logger, connectionOptions: { reconnectTimeWait: 200 } };
      const writer = await BroadcastState.open<Limits>(options);
      const reader = await BroadcastState.open<Limits>(options);
      await writer.publish({ maxPerMinute: 1, label: 'before' });
      await eventually(() => reader.current()?.label === 'before', 5_000, 'the first value');

      await server.stop();
      await sleep(1_500);
      expect(reader.current()).toEqual({ maxPerMinute: 1, label: 'before' });
      await expect(writer.publish({ maxPerMinute: 2, label: 'while down' })).rejects.toThrow();

      await server.start();
      const back = firstValueFrom(reader.values.pipe(filter((v) => v.label === 'after')));
      // The writer's connection may take a moment to come back: retry the publish until it does.
      let published = false;
      const deadline = Date.now() + 20_000;
      while (!published && Date.now() < deadline) {
        published = await writer.publish({ maxPerMinute: 3, label: 'after' }).then(
          () => true,
          async () => {
            await sleep(200);
            return false;
          },
        );
      }
      expect(published).toBe(true);
      await expect(back).resolves.toEqual({ maxPerMinute: 3, label: 'after' });
      expect(reader.rejected).toBe(0);
      await Promise.all([writer.close(), reader.close()]);
      await sleep(100);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 60_000);
});
