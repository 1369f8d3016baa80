import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { countSupervisorEvents } from '../../../src/supervision/count-supervisor-events.js';
import { harness, record } from './support.js';

function nodeTree() {
  const h = harness();
  const { fakes, supervisor } = h;
  const connectors = supervisor({ name: 'connectors', flags: { strategy: 'rest-for-one' }, children: [fakes.spec('kafka'), fakes.spec('nats')] });
  const clicks = supervisor({ name: 'processor:clicks', children: [fakes.spec('partition:clicks-0'), fakes.spec('partition:clicks-1')] });
  const node = supervisor({ name: 'node', children: [connectors.asChild(), clicks.asChild({ shutdownTimeoutMs: 60_000 })] });
  return { ...h, connectors, clicks, node };
}

describe('a supervision tree', () => {
  it("snapshots who supervises whom, each child's state, restart count and last error", async () => {
    const { clock, fakes, node } = nodeTree();
    await node.start();
    fakes.crash('partition:clicks-1', new Error('sink unreachable'));
    await clock.settle();
    const failedAt = clock.now();

    const snapshot = node.snapshot();
    expect(snapshot).toMatchObject({ name: 'node', path: 'node', state: 'running', strategy: 'one-for-one', recentRestarts: 0, health: { healthy: true } });
    expect(snapshot.children.map((c) => [c.path, c.type, c.state])).toEqual([
      ['node/connectors', 'supervisor', 'running'],
      ['node/processor:clicks', 'supervisor', 'running'],
    ]);
    const clicks = snapshot.children[1].supervisor!;
    expect(clicks).toMatchObject({ path: 'node/processor:clicks', recentRestarts: 1, intensity: 3, periodMs: 5_000 });
    expect(clicks.children).toEqual([
      {
        id: 'partition:clicks-0',
        type: 'worker',
        restart: 'permanent',
        state: 'running',
        path: 'node/processor:clicks/partition:clicks-0',
        restarts: 0,
        backoffAttempt: 0,
        startedAt: 1_000_000,
        lastError: undefined,
      },
      {
        id: 'partition:clicks-1',
        type: 'worker',
        restart: 'permanent',
        state: 'restarting',
        path: 'node/processor:clicks/partition:clicks-1',
        restarts: 1,
        backoffAttempt: 1,
        startedAt: 1_000_000,
        lastError: { name: 'Error', message: 'sink unreachable', at: failedAt },
      },
    ]);
    expect(snapshot.children[0].supervisor!.children.map((c) => c.path)).toEqual(['node/connectors/kafka', 'node/connectors/nats']);
    expect(JSON.parse(JSON.stringify(snapshot))).toMatchObject({ children: [{}, { supervisor: { children: [{}, { lastError: { message: 'sink unreachable' } }] } }] });
  });

  it('shows the events of the whole tree on the root, with supervisor path, child, path and time', async () => {
    const { clock, fakes, node } = nodeTree();
    const events = record(node);
    await node.start();
    expect(events.map((e) => e.type === 'supervisor.child-started' && e.path)).toEqual([
      'node/connectors/kafka',
      'node/connectors/nats',
      'node/connectors',
      'node/processor:clicks/partition:clicks-0',
      'node/processor:clicks/partition:clicks-1',
      'node/processor:clicks',
    ]);
    events.length = 0;

    const error = fakes.crash('partition:clicks-0');
    await clock.settle();
    const t = clock.now();
    await clock.advance(100);

    expect(events).toEqual([
      { type: 'supervisor.child-failed', supervisor: 'node/processor:clicks', child: 'partition:clicks-0', path: 'node/processor:clicks/partition:clicks-0', at: t, error, phase: 'run' },
      {
        type: 'supervisor.child-restarting',
        supervisor: 'node/processor:clicks',
        child: 'partition:clicks-0',
        path: 'node/processor:clicks/partition:clicks-0',
        at: t,
        delayMs: 100,
        attempt: 1,
        children: ['partition:clicks-0'],
      },
      { type: 'supervisor.child-started', supervisor: 'node/processor:clicks', child: 'partition:clicks-0', path: 'node/processor:clicks/partition:clicks-0', at: t + 100, restarts: 1 },
    ]);
  });

  it('stops a nested tree depth first, in reverse order at every level', async () => {
    const { fakes, node } = nodeTree();
    await node.start();
    fakes.clearLog();
    await node.stop();
    expect(fakes.log).toEqual(['stop partition:clicks-1 (shutdown)', 'stop partition:clicks-0 (shutdown)', 'stop nats (shutdown)', 'stop kafka (shutdown)']);
  });

  it('counts the events of the whole tree in a prom-client counter it is given', async () => {
    const { clock, fakes, node } = nodeTree();
    const registry = new Registry();
    const counter = new Counter({ name: 'supervisor_events_total', help: 'test', labelNames: ['event', 'supervisor'] as const, registers: [registry] });
    const subscription = countSupervisorEvents(node.events, counter);
    await node.start();
    fakes.crash('nats');
    await clock.advance(100);
    subscription.unsubscribe();

    const values = (await counter.get()).values.map((v) => [v.labels.event, v.labels.supervisor, v.value]);
    expect(values).toEqual(
      expect.arrayContaining([
        ['supervisor.child-started', 'node/connectors', 3],
        ['supervisor.child-started', 'node', 2],
        ['supervisor.child-failed', 'node/connectors', 1],
        ['supervisor.child-restarting', 'node/connectors', 1],
      ]),
    );
  });
});
