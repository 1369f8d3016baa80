import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { map } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createTributary, type Tributary } from '../../src/app/tributary.js';
import { MemoryLog } from '../../src/connectors/memory/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import type { SupervisorSnapshot } from '../../src/supervision/supervisor-snapshot.js';
import { eventually } from '../contract/read-topic.js';
import { ensureChromium, launchChromium } from '../helpers/chromium.js';
import { natsUrl } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

const screenshots = join(process.cwd(), '.tributary', 'screenshots');
const chromiumLookup = await ensureChromium();
if ('unavailable' in chromiumLookup) {
  console.warn(`skipping the web console's browser tests: ${chromiumLookup.unavailable}`);
}

/** Every child of the tree, with its path, state and restarts. */
function childrenOf(snapshot: SupervisorSnapshot): Array<{ path: string; state: string; restarts: number }> {
  return snapshot.children.flatMap((c) => [{ path: c.path, state: c.state, restarts: c.restarts }, ...(c.supervisor ? childrenOf(c.supervisor) : [])]);
}

describe.skipIf('unavailable' in chromiumLookup)('the web console in a real browser (headless Chromium)', () => {
  const topic = uniqueName('console-clicks');
  const token = 'console-test-token-0123456789';
  const log = new MemoryLog();
  log.createTopic(topic, 4);
  let failOnce = true;
  let app: Tributary;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  beforeAll(async () => {
    app = createTributary({
      log,
      logger: createLogger({ level: 'silent' }),
      ui: { controlToken: token, intervalMs: 250 },
      restartBackoff: { minMs: 500, maxMs: 500 },
      processors: [
        defineProcessor<string | null, { n: number; boom?: boolean }>({
          id: 'clicks',
          source: { topics: topic },
          pipeline: (records) =>
            records.pipe(
              map((r) => {
                if (r.value.boom && failOnce) {
                  failOnce = false;
                  throw new Error('boom: the test made this partition fail');
                }
                return r.value.n;
              }),
            ),
          sinks: toFunction('seen', () => undefined),
        }),
      ],
    });
    await app.start();
    await log.producer().send(topic, Array.from({ length: 400 }, (_, n) => ({ key: `user-${n % 37}`, value: JSON.stringify({ n }) })));
    browser = await launchChromium((chromiumLookup as { executablePath: string }).executablePath);
    page = await browser.context.newPage();
    await page.goto(app.consoleUrl!);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('serves the page at /ui/ and shows the supervision tree as app.supervisionTree() has it', async () => {
    expect(app.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ui\/$/);
    await page.locator('#connection.conn-live').waitFor();
    await eventually(async () => {
      const expected = childrenOf(app.supervisionTree());
      expect(expected.length).toBeGreaterThanOrEqual(7); // connectors, consumer, processor, 4 partitions
      const shown = await page.$$eval('#tree [data-path]', (items) =>
        items.map((li) => ({ path: li.getAttribute('data-path')!, state: li.getAttribute('data-state')!, restarts: Number(li.getAttribute('data-restarts') ?? 0) })),
      );
      // The page lists the root too (it has no parent to list it as a child).
      expect(shown.filter((s) => s.path !== 'node')).toEqual(expected);
    }, 20_000);
  });

  it('lists every partition of this node with its offsets, owner and state', async () => {
    await eventually(async () => {
      const status = app.status().processors[0].partitions;
      expect(status).toHaveLength(4);
      const rows = await page.$$eval('#partitions tbody tr', (trs) =>
        trs.map((tr) => ({ key: tr.getAttribute('data-key'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })),
      );
      expect(rows.map((r) => r.key).sort()).toEqual(status.map((p) => `clicks/${topic}/${p.partition}`).sort());
      for (const row of rows) {
        const p = status.find((s) => `clicks/${topic}/${s.partition}` === row.key)!;
        expect(row.cells[1]).toBe(`${topic}-${p.partition}`);
        expect(row.cells[2]).toBe('local');
        expect(row.cells[3]).toBe(p.state);
        // Every record was taken: lag 0 and the end offset is the partition's size.
        expect(row.cells[6]).toBe('0');
      }
      const ends = await page.$$eval('#partitions tbody tr', (trs) => trs.map((tr) => Number(tr.querySelectorAll('td')[5]!.textContent!.replaceAll(',', ''))));
      expect(ends.reduce((a, b) => a + b, 0)).toBe(400);
    }, 20_000);
  });

  it('shows a partition that failed being restarted, in the tree, the table and the events', async () => {
    await log.producer().send(topic, [{ partition: 2, key: 'boom', value: JSON.stringify({ n: -1, boom: true }) }]);
    const childPath = `node/processor:clicks/partition:${topic}-2`;
    await eventually(() => expect(childrenOf(app.supervisionTree()).find((c) => c.path === childPath)?.restarts).toBe(1), 20_000);
    await page.locator(`#tree li[data-path="${childPath}"][data-restarts="1"]`).waitFor({ timeout: 20_000 });
    // It flashes for 5 s after its failure and restart arrive.
    await page.locator(`#tree li[data-path="${childPath}"].flash`).waitFor({ timeout: 5_000 });
    await page.locator(`#partitions tr[data-key="clicks/${topic}/2"][data-restarts="1"]`).waitFor({ timeout: 20_000 });
    await expect(page.locator('#events li.supervisor-child-failed').first().textContent()).resolves.toContain('boom: the test made this partition fail');
    await expect(page.locator(`#tree li[data-path="${childPath}"] .error`).textContent()).resolves.toContain('boom');
    await eventually(async () => {
      await expect(page.locator(`#tree li[data-path="${childPath}"]`).getAttribute('data-state')).resolves.toBe('running');
    }, 20_000);
    // The plots have points to draw by now.
    await page.locator('#plot-rate canvas').waitFor();
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: join(screenshots, 'console.png'), fullPage: true });
  });

  it('pauses and resumes the processor from the page with the control token, and refuses without it', async () => {
    const refused = await page.evaluate(async () => {
      const res = await fetch('api/control', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'pause', processor: 'clicks' }) });
      return res.status;
    });
    expect(refused).toBe(401);
    expect(app.processor('clicks').isPaused).toBe(false);
    await page.fill('#token', token);
    await page.dispatchEvent('#token', 'change');
    await page.click('.card[data-processor="clicks"] button[data-action="pause"]');
    await eventually(() => expect(app.processor('clicks').isPaused).toBe(true), 10_000);
    await page.locator('.card[data-processor="clicks"].paused').waitFor({ timeout: 10_000 });
    await page.click('.card[data-processor="clicks"] button[data-action="resume"]');
    await eventually(() => expect(app.processor('clicks').isPaused).toBe(false), 10_000);
  });
});

describe.skipIf('unavailable' in chromiumLookup)('the web console of a cluster in a real browser', () => {
  const topic = uniqueName('console-cluster');
  const clusterName = uniqueName('console');
  const log = new MemoryLog();
  log.createTopic(topic, 4);
  const nodes: Tributary[] = [];
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const start = async (nodeId: string, ui: boolean): Promise<Tributary> => {
    const app = createTributary({
      log,
      logger: createLogger({ level: 'silent' }),
      ...(ui ? { ui: { intervalMs: 250 } } : {}),
      cluster: { servers: natsUrl(), cluster: clusterName, nodeId, heartbeatIntervalMs: 200, suspectAfterMs: 600, downAfterMs: 1_200 },
      processors: [
        defineProcessor<string | null, { n: number }>({
          id: 'counts',
          source: { topics: topic },
          pipeline: (records) => records.pipe(map((r) => r.value.n)),
          sinks: toFunction('seen', () => undefined),
        }),
      ],
    });
    nodes.push(app);
    await app.start();
    return app;
  };

  beforeAll(async () => {
    await start('console-a', true);
    await start('console-b', false);
    browser = await launchChromium((chromiumLookup as { executablePath: string }).executablePath);
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    for (const app of nodes) await app.stop();
  });

  it('shows every node, the partitions each owns, and a node that left greyed', async () => {
    const [a, b] = nodes as [Tributary, Tributary];
    await eventually(() => {
      const view = a.cluster!.members();
      expect(view.members.filter((m) => m.status === 'alive')).toHaveLength(2);
      expect(new Set(view.partitions.map((p) => p.node))).toEqual(new Set(['console-a', 'console-b']));
    }, 30_000);
    await page.goto(a.consoleUrl!);
    await page.locator('#cluster tr[data-node="console-b"][data-status="alive"]').waitFor({ timeout: 20_000 });
    await page.locator('#cluster tr[data-node="console-a"].self').waitFor();
    await eventually(async () => {
      const owners = await page.$$eval('#partitions tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-key'), tr.querySelectorAll('td')[2]!.textContent]));
      const expected = a.cluster!.members().partitions.map((p) => [`counts/${p.topic}/${p.partition}`, p.node]);
      expect(owners.sort()).toEqual(expected.sort());
    }, 20_000);
    await b.stop();
    await page.locator('#cluster tr[data-node="console-b"].gone').waitFor({ timeout: 20_000 });
    await expect(page.locator('#cluster tr[data-node="console-b"]').getAttribute('data-status')).resolves.toMatch(/^(left|down)$/);
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: join(screenshots, 'console-cluster.png'), fullPage: true });
  });
});

describe.skipIf('unavailable' in chromiumLookup)('an escalation in the web console', () => {
  const topic = uniqueName('console-escalation');
  const log = new MemoryLog();
  log.createTopic(topic, 2);
  let app: Tributary;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    app = createTributary({
      log,
      logger: createLogger({ level: 'silent' }),
      ui: { intervalMs: 250 },
      restartBackoff: { minMs: 100, maxMs: 100 },
      // One restart within a minute: the second failure escalates the processor's supervisor.
      supervision: { intensity: 1, periodMs: 60_000 },
      processors: [
        defineProcessor<string | null, { boom?: boolean }>({
          id: 'fragile',
          source: { topics: topic },
          pipeline: (records) =>
            records.pipe(
              map((r) => {
                if (r.value.boom) throw new Error('boom: always');
                return 1;
              }),
            ),
          sinks: toFunction('seen', () => undefined),
        }),
      ],
    });
    await app.start();
    browser = await launchChromium((chromiumLookup as { executablePath: string }).executablePath);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('shows the escalation in red in the events', async () => {
    const page = await browser.context.newPage();
    await page.goto(app.consoleUrl!);
    await page.locator('#connection.conn-live').waitFor();
    await log.producer().send(topic, [{ partition: 0, key: 'k', value: JSON.stringify({ boom: true }) }]);
    const escalation = page.locator('#events li.supervisor-escalated').first();
    await escalation.waitFor({ timeout: 20_000 });
    await expect(escalation.textContent()).resolves.toContain('node/processor:fragile');
    // The events list is re-rendered as events arrive: read the colour of whichever element is the escalation now.
    await page.waitForFunction(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
      const li = doc.querySelector('#events li.supervisor-escalated');
      return li !== null && (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(li).color === 'rgb(220, 38, 38)';
    }, undefined, { timeout: 20_000 });
  });
});
