import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import type { GroupConsumer, GroupConsumerHandlers, GroupConsumerOptions, LogConnector } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });

/** A MemoryLog whose first consumer dies (as a client does on an error it cannot recover from) after its first batch. */
function crashingOnce(log: MemoryLog): LogConnector {
  let crashes = 0;
  return {
    kind: 'memory',
    producer: () => log.producer(),
    admin: () => log.admin(),
    groupConsumer(options: GroupConsumerOptions): GroupConsumer {
      const inner = log.groupConsumer(options);
      return new Proxy(inner, {
        get(target, prop, receiver) {
          if (prop !== 'start') return Reflect.get(target, prop, receiver);
          return (handlers: GroupConsumerHandlers) =>
            target.start({
              ...handlers,
              onBatch: async (batch) => {
                await handlers.onBatch(batch);
                if (crashes++ === 0) handlers.onCrash?.(new Error('connection to the coordinator lost for good'));
              },
            });
        },
      });
    },
  };
}

describe('a consumer that crashes', () => {
  it('is replaced by a new member of the group, and every record is processed', async () => {
    const memory = new MemoryLog();
    memory.createTopic('in', 1);
    const seen = new Set<number>();
    const app = createTributary({
      log: crashingOnce(memory),
      logger,
      restartBackoff: { minMs: 5, maxMs: 10 },
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
    await memory.producer().send('in', Array.from({ length: 50 }, (_, n) => ({ value: JSON.stringify({ n }) })));
    await app.start();
    await eventually(() => expect(seen.size).toBe(50));
    expect(app.health().ok).toBe(true);
    await app.stop();
  });
});
