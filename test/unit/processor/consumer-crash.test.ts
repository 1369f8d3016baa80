import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import type { GroupConsumer, GroupConsumerHandlers, GroupConsumerOptions, LogConnector } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { SupervisorEvent } from '../../../src/supervision/supervisor-event.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });

/**
 * A MemoryLog whose consumers start with `start(inner, handlers, n)` (n: 0 for the first
 * consumer, 1 for the next, ...); every other method goes to the MemoryLog's consumer itself,
 * bound to it (the group knows its members by identity, not by proxy).
 */
function withConsumerStart(log: MemoryLog, start: (inner: GroupConsumer, handlers: GroupConsumerHandlers, n: number) => Promise<void>): LogConnector {
  let consumers = 0;
  return {
    kind: 'memory',
    producer: () => log.producer(),
    admin: () => log.admin(),
    reader: () => log.reader(),
    groupConsumer(options: GroupConsumerOptions): GroupConsumer {
      const inner = log.groupConsumer(options);
      const n = consumers++;
      return new Proxy(inner, {
        get(target, prop) {
          if (prop === 'start') return (handlers: GroupConsumerHandlers) => start(target, handlers, n);
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

/**
 * A MemoryLog whose first `times` consumers die (as a client does on an error it cannot recover
 * from) just after joining their group.
 */
function crashing(log: MemoryLog, times = 1): LogConnector {
  return withConsumerStart(log, async (inner, handlers, n) => {
    await inner.start(handlers);
    // Like kafkajs' CRASH event: reported from outside the fetch loop, while batches flow.
    if (n < times) setTimeout(() => handlers.onCrash?.(new Error('connection to the coordinator lost for good')), 2);
  });
}

/** A MemoryLog whose consumers never manage to join their group. */
function neverJoining(log: MemoryLog): LogConnector {
  return withConsumerStart(log, () => Promise.reject(new Error('broker unreachable')));
}

describe('a consumer that crashes', () => {
  it('is restarted by the connectors supervisor as a new member of the group, and every record is processed', async () => {
    const memory = new MemoryLog();
    memory.createTopic('in', 1);
    const seen = new Set<number>();
    const app = createTributary({
      log: crashing(memory, 2),
      logger,
      restartBackoff: { minMs: 5, maxMs: 10 },
      supervision: { connectorBackoff: { minMs: 5, maxMs: 10 } },
      processors: [
        defineProcessor<string | null, { n: number }>({
          id: 'crashy',
          source: { topics: 'in' },
          maxBatchRecords: 10,
          pipeline: (records) => records.pipe(map((r) => r.value.n)),
          sinks: toFunction('seen', (items: readonly number[]) => void items.forEach((n) => seen.add(n))),
        }),
      ],
    });
    const events: SupervisorEvent[] = [];
    app.supervision.subscribe((e) => events.push(e));
    await memory.producer().send('in', Array.from({ length: 50 }, (_, n) => ({ value: JSON.stringify({ n }) })));
    await app.start();
    const consumerEvents = (): string[] =>
      events.filter((e) => e.type.startsWith('supervisor.child-') && 'child' in e && e.child === 'consumer:crashy').map((e) => `${e.type} ${(e as { path: string }).path}`);
    await eventually(() => expect(consumerEvents().filter((e) => e.startsWith('supervisor.child-started'))).toHaveLength(3));
    await eventually(() => expect(seen.size).toBe(50));
    expect(app.health().ok).toBe(true);

    expect(consumerEvents().filter((e) => e.startsWith('supervisor.child-failed'))).toEqual([
      'supervisor.child-failed node/connectors/consumer:crashy',
      'supervisor.child-failed node/connectors/consumer:crashy',
    ]);
    const connectors = app.supervisionTree().children.find((c) => c.id === 'connectors');
    expect(connectors?.supervisor?.children.map((c) => [c.id, c.state, c.restarts])).toEqual([['consumer:crashy', 'running', 2]]);
    expect(app.supervisionTree().health.healthy).toBe(true);
    await app.stop();
  });

  it('is retried with backoff while it cannot join, and /health fails once it has been down longer than connectorDownHealthMs', async () => {
    const memory = new MemoryLog();
    memory.createTopic('in', 1);
    const app = createTributary({
      log: neverJoining(memory),
      logger,
      supervision: { connectorBackoff: { minMs: 20, maxMs: 50 }, connectorDownHealthMs: 300 },
      processors: [
        defineProcessor<string | null, unknown>({
          id: 'stranded',
          source: { topics: 'in' },
          pipeline: (records) => records,
          sinks: toFunction('nowhere', () => undefined),
        }),
      ],
    });
    await app.start(); // the start of a connector that fails is a crash to restart, not a failed start
    expect(app.health().ok).toBe(true);
    await eventually(() => {
      const health = app.health() as { ok: boolean; connectors: Array<{ id: string; restarts: number; lastError?: string }> };
      expect(health.ok).toBe(false);
      expect(health.connectors[0]).toMatchObject({ id: 'consumer:stranded', lastError: 'broker unreachable' });
      expect(health.connectors[0].restarts).toBeGreaterThanOrEqual(3);
    });
    // Kept retrying, never escalated: the tree itself is healthy.
    expect(app.supervisionTree().health.healthy).toBe(true);
    await app.stop();
  });
});
