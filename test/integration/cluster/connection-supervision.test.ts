// The cluster's NATS connection is a child of the app's connectors supervisor: when it closes for
// good (not by the node), the supervisor connects anew and the node takes up heartbeats, its actor
// inbox and control on the new connection, with its handlers still registered.
import { afterEach, describe, expect, it } from 'vitest';
import { createTributary, type Tributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { SupervisorEvent } from '../../../src/supervision/supervisor-event.js';
import { natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';
import { countingProcessor, until } from './fixtures/in-process.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });

describe('the NATS connection under supervision', () => {
  const apps: Tributary[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop();
  });

  function startApp(cluster: string, nodeId: string, topic: string): Promise<Tributary> {
    const log = new MemoryLog();
    log.createTopic(topic, 1);
    const app = createTributary({
      log,
      logger,
      processors: [countingProcessor(topic)],
      cluster: { cluster, nodeId, servers: natsUrl() },
      supervision: { connectorBackoff: { minMs: 50, maxMs: 200 } },
    });
    apps.push(app);
    return app.start().then(() => app);
  }

  it('connects anew after the connection closed for good, and the node is reachable again with its handlers', async () => {
    const cluster = uniqueName('sup');
    const a = await startApp(cluster, 'a', 'in-a');
    const b = await startApp(cluster, 'b', 'in-b');
    a.cluster!.register('echo', (message) => ({ echoed: message }));
    const events: SupervisorEvent[] = [];
    a.supervision.subscribe((e) => events.push(e));
    const seesA = (): boolean => b.cluster!.members().members.some((m) => m.node === 'a' && m.status === 'alive');
    await until(seesA, 10_000, 'b to see a');
    expect(await b.cluster!.ask({ node: 'a', path: 'echo' }, 'before')).toEqual({ echoed: 'before' });

    const first = a.cluster!.connection;
    await first.close(); // closed from outside the node: the client will not reconnect it
    const natsChild = () => a.supervisionTree().children.find((c) => c.id === 'connectors')!.supervisor!.children.find((c) => c.id === 'nats');
    await until(() => natsChild()?.state === 'running' && natsChild()?.restarts === 1, 10_000, 'the nats child restarted');
    expect(a.cluster!.connection).not.toBe(first);
    const nats = events.filter((e) => 'child' in e && e.child === 'nats').map((e) => e.type);
    expect(nats).toEqual(['supervisor.child-failed', 'supervisor.child-restarting', 'supervisor.child-started']);

    await until(seesA, 10_000, 'b to see a alive again');
    expect(await b.cluster!.ask({ node: 'a', path: 'echo' }, 'after')).toEqual({ echoed: 'after' });
    expect(a.health().ok).toBe(true);
  }, 30_000);
});
