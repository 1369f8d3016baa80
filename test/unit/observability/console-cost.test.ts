import type { IncomingMessage, ServerResponse } from 'node:http';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { resolveConsoleOptions } from '../../../src/observability/console/console-options.js';
import { partitionKey, type ConsoleBackpressureEvent, type ConsoleMembership, type ConsoleSource } from '../../../src/observability/console/console-source.js';
import { consolePageBytes, startWebConsole, type WebConsole } from '../../../src/observability/console/web-console.js';
import type { SupervisorEvent } from '../../../src/supervision/supervisor-event.js';
import type { ChildSnapshot, SupervisorSnapshot } from '../../../src/supervision/supervisor-snapshot.js';

const logger = createLogger({ level: 'silent' });
const flags = { strategy: 'one-for-one' as const, recentRestarts: 0, intensity: 20, periodMs: 60_000 };

/** A node running `partitions` partitions of two processors, every figure moving at every sample, as under load. */
function fakeSource(partitions: number, extra: { secrets?: string[]; lastError?: string; membership?: ConsoleMembership } = {}) {
  const supervision = new Subject<SupervisorEvent>();
  const backpressure = new Subject<ConsoleBackpressureEvent>();
  const processorIds = ['page-views', 'page-views-by-page'];
  let tick = 0;
  const perProcessor = (p: number): number => Math.floor(partitions / 2) + (p === 0 ? partitions % 2 : 0);
  const partitionChild = (id: string, n: number): ChildSnapshot => ({
    id: `partition:${id}-${n}`,
    path: `node/processor:${id}/partition:${id}-${n}`,
    type: 'worker',
    restart: 'transient',
    state: 'running',
    restarts: n === 3 ? 2 : 0,
    backoffAttempt: 0,
    startedAt: 1,
    lastError: n === 3 ? { name: 'Error', message: extra.lastError ?? 'boom', at: 1 } : undefined,
  });
  const tree = (): SupervisorSnapshot => ({
    name: 'node',
    path: 'node',
    state: 'running',
    ...flags,
    health: { healthy: true, state: 'running' },
    children: processorIds.map((id, p) => ({
      id: `processor:${id}`,
      path: `node/processor:${id}`,
      type: 'supervisor',
      restart: 'permanent',
      state: 'running',
      restarts: 0,
      backoffAttempt: 0,
      startedAt: 1,
      lastError: undefined,
      supervisor: {
        name: `processor:${id}`,
        path: `node/processor:${id}`,
        state: 'running',
        ...flags,
        health: { healthy: true, state: 'running' },
        children: Array.from({ length: perProcessor(p) }, (_, n) => partitionChild(id, n)),
      },
    })),
  });
  const source: ConsoleSource = {
    nodeId: () => 'worker-1',
    state: () => 'running',
    supervisionTree: tree,
    processors: () => {
      tick++;
      return processorIds.map((id, p) => ({
        id,
        paused: false,
        partitions: Array.from({ length: perProcessor(p) }, (_, n) => ({
          topic: id === 'page-views' ? 'clicks' : 'page-views-by-page-repartition',
          partition: n,
          state: 'running.flowing',
          committed: 1_000_000 + tick * 1_000 + n,
          position: 1_000_500 + tick * 1_000 + n,
          watermark: 1_700_000_000_000 + tick * 1_000,
          pending: n % 500,
          restarts: n === 3 ? 2 : 0,
        })),
      }));
    },
    lag: async () => {
      const lags = new Map<string, number>();
      processorIds.forEach((id, p) => {
        for (let n = 0; n < perProcessor(p); n++) lags.set(partitionKey(id, id === 'page-views' ? 'clicks' : 'page-views-by-page-repartition', n), (n * 7919 + tick) % 100_000);
      });
      return lags;
    },
    counters: async () => ({ deadLetters: tick * 3, late: tick }),
    membership: () => extra.membership,
    supervision,
    backpressure,
    control: async () => ({ ok: true }),
    secrets: extra.secrets ?? [],
  };
  return { source, supervision };
}

/** A browser's end of an event stream: collects what is written. */
function fakeBrowser(path = '/ui/events') {
  const written: string[] = [];
  const req = { url: path, method: 'GET', headers: {}, once: () => req } as unknown as IncomingMessage;
  const res = {
    writableLength: 0,
    writeHead: () => res,
    write: (chunk: string) => written.push(chunk),
    end: () => undefined,
    once: () => res,
    destroy: () => undefined,
  } as unknown as ServerResponse;
  return { req, res, written, events: (type: string) => written.filter((w) => w.startsWith(`event: ${type}\n`)) };
}

const consoles: WebConsole[] = [];
afterEach(() => {
  for (const c of consoles.splice(0)) c.close();
  vi.useRealTimers();
});

describe("the web console's event stream cost", () => {
  it('keeps an update under 32 KiB at 1,000 partitions, and no larger at 10,000', async () => {
    const sizes: Record<number, { update: number; hello: number; rows: number; msPerSample: number }> = {};
    for (const partitions of [1_000, 10_000]) {
      const { source } = fakeSource(partitions);
      const web = startWebConsole(source, resolveConsoleOptions({ intervalMs: 60_000 }), logger);
      consoles.push(web);
      const browser = fakeBrowser();
      await web.tick(); // the first sample has no rates yet
      web.handle(browser.req, browser.res);
      // Ten minutes of history (600 points), as a browser connecting late gets it; the points do
      // not grow with the partitions, so 10,000 partitions get fewer samples (time).
      for (let i = 0; i < (partitions === 1_000 ? 600 : 30); i++) await web.tick();
      const started = performance.now();
      const samples = 20;
      let bytes = 0;
      let clients = 0;
      for (let i = 0; i < samples; i++) {
        const { cost } = await web.tick();
        bytes = Math.max(bytes, cost.bytes);
        clients = cost.clients;
      }
      const msPerSample = (performance.now() - started) / samples;
      expect(clients).toBe(1);
      const late = fakeBrowser();
      web.handle(late.req, late.res);
      const hello = Buffer.byteLength(late.events('hello')[0]);
      const frame = JSON.parse(browser.events('update').at(-1)!.split('\ndata: ')[1]) as { rows: unknown[]; totalRows: number; processors: Array<{ partitions: number }> };
      expect(frame.rows).toHaveLength(100);
      expect(frame.totalRows).toBe(partitions);
      expect(frame.processors.reduce((n, p) => n + p.partitions, 0)).toBe(partitions);
      sizes[partitions] = { update: bytes, hello, rows: frame.rows.length, msPerSample };
    }
    // The figures for the docs (bytes are exact; the time is this machine's, not asserted).
    console.log(`console event stream cost: ${JSON.stringify(sizes)}`);
    expect(sizes[1_000].update).toBeLessThan(32 * 1024);
    expect(sizes[10_000].update).toBeLessThan(32 * 1024);
    expect(sizes[10_000].update).toBeLessThan(sizes[1_000].update * 1.1);
    // hello: the frame with the (bounded) tree, and 600 plot points.
    expect(sizes[1_000].hello).toBeLessThan(160 * 1024);
    expect(sizes[10_000].hello).toBeLessThan(160 * 1024);
  }, 120_000);

  it('sends at most 4 updates a second, one per interval, to every browser', async () => {
    vi.useFakeTimers();
    const { source } = fakeSource(1_000);
    const web = startWebConsole(source, resolveConsoleOptions({ intervalMs: 250 }), logger);
    consoles.push(web);
    const browsers = [fakeBrowser(), fakeBrowser(), fakeBrowser()];
    for (const b of browsers) web.handle(b.req, b.res);
    await vi.advanceTimersByTimeAsync(10_000);
    for (const b of browsers) {
      expect(b.events('update').length).toBeLessThanOrEqual(40);
      expect(b.events('update').length).toBeGreaterThanOrEqual(39);
    }
    // The same bytes to every browser: serialised once per update.
    expect(browsers[1].written).toEqual(browsers[0].written);
    expect(() => resolveConsoleOptions({ intervalMs: 100 })).toThrow(/ui\.intervalMs/);
  });

  it('sends the tree once while it does not change, and the events of each interval once', async () => {
    const { source, supervision } = fakeSource(1_000);
    const web = startWebConsole(source, resolveConsoleOptions({ intervalMs: 60_000 }), logger);
    consoles.push(web);
    const browser = fakeBrowser();
    web.handle(browser.req, browser.res);
    const frames = [];
    for (let i = 0; i < 3; i++) frames.push((await web.tick()).frame);
    expect(frames[0].tree).toBeDefined();
    expect(frames[1].tree).toBeUndefined();
    expect(frames[2].tree).toBeUndefined();
    // The tree lists 50 children per supervisor at most, the interesting ones first; the rest counted.
    const processor = frames[0].tree!.children[0].supervisor!;
    expect(processor.children).toHaveLength(50);
    expect(processor.children.some((c) => c.restarts === 2)).toBe(true);
    expect(processor.omitted).toEqual({ running: 450 });
    for (let i = 0; i < 80; i++) {
      supervision.next({ type: 'supervisor.child-failed', supervisor: 'node/processor:page-views', child: `partition:x-${i}`, path: `node/processor:page-views/partition:x-${i}`, at: i, error: new Error('boom'), phase: 'run' });
    }
    const withEvents = (await web.tick()).frame;
    expect(withEvents.events).toHaveLength(51);
    expect(withEvents.events.at(-1)).toMatchObject({ type: 'console.events-dropped', message: '30 more events in this interval' });
    expect((await web.tick()).frame.events).toHaveLength(0);
  });

  it('never sends a secret: SASL passwords, NATS credentials and passwords in URLs are replaced', async () => {
    const { source } = fakeSource(10, {
      secrets: ['kafka-sasl-password-1', 'nats-token-abcdef'],
      lastError: 'auth failed with kafka-sasl-password-1, then nats-token-abcdef, on nats://tributary:url-pass-9@nats:4222',
    });
    const web = startWebConsole(source, resolveConsoleOptions({ intervalMs: 60_000 }), logger);
    consoles.push(web);
    const browser = fakeBrowser();
    await web.tick();
    web.handle(browser.req, browser.res);
    await web.tick();
    const text = browser.written.join('');
    expect(text).toContain('auth failed with [redacted], then [redacted], on nats://tributary:[redacted]@nats:4222');
    expect(text).not.toContain('kafka-sasl-password-1');
    expect(text).not.toContain('nats-token-abcdef');
    expect(text).not.toContain('url-pass-9');
  });

  it('serves a page of under 100 KiB with everything it loads', () => {
    const bytes = consolePageBytes();
    console.log(`console page with its scripts and styles: ${bytes} bytes`);
    expect(bytes).toBeLessThan(100 * 1024);
  });
});
