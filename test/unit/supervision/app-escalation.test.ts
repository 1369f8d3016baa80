import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import type { SupervisorEvent } from '../../../src/supervision/supervisor-event.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });

function brokenSinkApp(onEscalation: 'exit' | 'stay-down', exit?: (code: number) => void) {
  const log = new MemoryLog();
  log.createTopic('in', 2);
  void log.producer().send('in', [{ key: 'a', value: '{"n":1}' }, { key: 'b', value: '{"n":2}' }]);
  return createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 2 },
    supervision: { intensity: 2, periodMs: 60_000, onEscalation, exit },
    processors: [
      defineProcessor<string | null, { n: number }>({
        id: 'broken',
        source: { topics: 'in' },
        pipeline: (records) => records.pipe(map((r) => r.value.n)),
        // An infrastructure failure: every write fails, whatever the record (not a poison record).
        sinks: { name: 'down', write: async () => Promise.reject(new Error('sink unavailable')) },
      }),
    ],
  });
}

describe('escalation through the supervision tree', () => {
  it('restarts failing partition actors, escalates past the intensity, and stays down with /health failing', async () => {
    const app = brokenSinkApp('stay-down');
    const events: SupervisorEvent[] = [];
    app.supervision.subscribe((e) => events.push(e));
    await app.start();
    await eventually(() => expect(events.some((e) => e.type === 'supervisor.gave-up')).toBe(true), 20_000);
    expect(events.filter((e) => e.type === 'supervisor.child-restarting').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'supervisor.escalated' && e.supervisor === 'node/processor:broken')).toBe(true);
    const health = app.health();
    expect(health.ok).toBe(false);
    expect(JSON.stringify(health)).toMatch(/escalat/i);
    const tree = app.supervisionTree();
    expect(tree.path).toBe('node');
    const metrics = await app.metrics.registry.getSingleMetricAsString('tributary_supervisor_events_total');
    expect(metrics).toMatch(/event="supervisor.gave-up"/);
    await app.stop().catch(() => {});
  }, 30_000);

  it("exits the process with code 1 under the 'exit' policy", async () => {
    const codes: number[] = [];
    const app = brokenSinkApp('exit', (code) => void codes.push(code));
    await app.start();
    await eventually(() => expect(codes).toEqual([1]), 20_000);
    await app.stop().catch(() => {});
  }, 30_000);
});
