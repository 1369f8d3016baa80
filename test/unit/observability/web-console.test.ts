import { map } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTributary, type Tributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { ConsoleOptions } from '../../../src/observability/console/console-options.js';
import { countByKey } from '../../../src/streams/count-by-key.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });
const apps: Tributary[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
});

async function startApp(options: { ui?: boolean | ConsoleOptions; httpPort?: number }): Promise<Tributary> {
  const log = new MemoryLog();
  log.createTopic('in', 2);
  const app = createTributary({
    log,
    logger,
    ...options,
    processors: [defineProcessor<string | null, { n: number }>({ id: 'counts', source: { topics: 'in' }, pipeline: (r) => r.pipe(map((x) => x.value.n)), sinks: toFunction('seen', () => undefined) })],
  });
  apps.push(app);
  await app.start();
  return app;
}

/** The first `event: <type>` of an event stream, parsed. */
async function firstEvent(url: string, type: string): Promise<unknown> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before an '${type}' event`);
      text += new TextDecoder().decode(value);
      const match = new RegExp(`event: ${type}\\ndata: (.*)\\n\\n`).exec(text);
      if (match) return JSON.parse(match[1]);
    }
  } finally {
    controller.abort();
  }
}

describe('the web console on the HTTP port', () => {
  it('is off unless ui is given: /ui/ is not found next to /metrics', async () => {
    const app = await startApp({ httpPort: 0 });
    expect(app.consoleUrl).toBeUndefined();
    expect((await fetch(`${app.httpUrl}/ui/`)).status).toBe(404);
    expect((await fetch(`${app.httpUrl}/metrics`)).status).toBe(200);
  });

  it('serves the page, its scripts and uPlot with a strict content security policy, on a free port with ui: true', async () => {
    const app = await startApp({ ui: true });
    expect(app.consoleUrl).toBe(`${app.httpUrl}/ui/`);
    const redirect = await fetch(`${app.httpUrl}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/ui/');
    const page = await fetch(app.consoleUrl!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="console.js"></script>');
    for (const asset of ['console.js', 'console.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
      expect((await fetch(`${app.consoleUrl}${asset}`)).status).toBe(200);
    }
    expect((await fetch(`${app.consoleUrl}../ui/nothing-here`)).status).toBe(404);
    // /metrics and /health stay where they were.
    expect((await fetch(`${app.httpUrl}/health`)).status).toBe(200);
  });

  it('streams a hello with the processors, partitions and tree, then updates', async () => {
    const app = await startApp({ ui: { intervalMs: 250 } });
    const hello = (await firstEvent(`${app.consoleUrl}events`, 'hello')) as { frame: { processors: Array<{ id: string; partitions: number }>; rows: Array<{ topic: string }>; tree: { name: string }; control: boolean } };
    expect(hello.frame.processors).toEqual([expect.objectContaining({ id: 'counts', partitions: 2 })]);
    expect(hello.frame.rows.map((r) => r.topic)).toEqual(['in', 'in']);
    expect(hello.frame.tree.name).toBe('node');
    expect(hello.frame.control).toBe(false);
    const update = (await firstEvent(`${app.consoleUrl}events`, 'update')) as { point: { rate: Record<string, number> } };
    expect(Object.keys(update.point.rate)).toEqual(['counts']);
  });

  it("shows each partition's store keys in its row", async () => {
    const log = new MemoryLog();
    log.createTopic('in', 1);
    await log.producer().send('in', ['a', 'b', 'a', 'c'].map((key) => ({ key, value: '{}' })));
    const app = createTributary({
      log,
      logger,
      ui: { intervalMs: 250 },
      processors: [defineProcessor<string | null, unknown>({ id: 'keys', source: { topics: 'in' }, pipeline: (r) => r.pipe(countByKey({ store: 'seen' })), sinks: toFunction('seen', () => undefined) })],
    });
    apps.push(app);
    await app.start();
    await eventually(async () => {
      const hello = (await firstEvent(`${app.consoleUrl}events`, 'hello')) as { frame: { rows: Array<{ storeKeys?: number }> } };
      expect(hello.frame.rows.map((r) => r.storeKeys)).toEqual([3]);
    });
  });

  it('is read-only without a control token: a control request is refused and changes nothing', async () => {
    const app = await startApp({ ui: true });
    const res = await fetch(`${app.consoleUrl}api/control`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer anything-at-all-1234' },
      body: JSON.stringify({ action: 'pause', processor: 'counts' }),
    });
    expect(res.status).toBe(403);
    expect(app.processor('counts').isPaused).toBe(false);
  });

  it('runs a control action only with the right token', async () => {
    const token = 'a-control-token-of-some-length';
    const app = await startApp({ ui: { controlToken: token } });
    const send = (authorization: string | undefined, body: unknown) =>
      fetch(`${app.consoleUrl}api/control`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) });
    expect((await send(undefined, { action: 'pause', processor: 'counts' })).status).toBe(401);
    expect((await send(`Bearer ${token}x`, { action: 'pause', processor: 'counts' })).status).toBe(401);
    expect(app.processor('counts').isPaused).toBe(false);
    expect((await send(`Bearer ${token}`, { action: 'explode', processor: 'counts' })).status).toBe(400);
    expect((await send(`Bearer ${token}`, { action: 'pause', processor: 'no-such' })).status).toBe(409);
    expect((await send(`Bearer ${token}`, { action: 'pause', processor: 'counts' })).status).toBe(200);
    expect(app.processor('counts').isPaused).toBe(true);
    expect((await fetch(`${app.consoleUrl}api/control`)).status).toBe(405);
  });

  it('rejects bad options at construction, naming the setting', () => {
    const make = (ui: ConsoleOptions) => () => createTributary({ ui, processors: [defineProcessor({ id: 'p', source: { topics: 't' }, pipeline: (r) => r, sinks: toFunction('s', () => undefined) })] });
    expect(make({ intervalMs: 100 })).toThrow(ConfigError);
    expect(make({ intervalMs: 100 })).toThrow(/ui\.intervalMs/);
    expect(make({ controlToken: 'short' })).toThrow(/ui\.controlToken/);
    expect(make({ maxRows: 0 })).toThrow(/ui\.maxRows/);
  });

  it('pages through every partition row with a filter', async () => {
    const app = await startApp({ ui: { intervalMs: 250 } });
    await new Promise((r) => setTimeout(r, 400));
    const all = (await (await fetch(`${app.consoleUrl}api/partitions`)).json()) as { total: number; rows: Array<{ partition: number }> };
    expect(all.total).toBe(2);
    const one = (await (await fetch(`${app.consoleUrl}api/partitions?q=counts/in/1`)).json()) as { total: number; rows: Array<{ partition: number }> };
    expect(one).toEqual({ total: 1, rows: [expect.objectContaining({ partition: 1 })] });
  });
});
