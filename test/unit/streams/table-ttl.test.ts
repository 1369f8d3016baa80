import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { countByKey } from '../../../src/streams/count-by-key.js';
import type { TableUpdate } from '../../../src/streams/aggregate-by-key.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { eventually } from '../../contract/read-topic.js';

describe('table TTL', () => {
  it('deletes a key not updated for ttl of event time; a later element starts it again', () => {
    const clock = new WatermarkClock();
    const source = new Subject<{ key: string; timestamp: number }>();
    const updates: Array<TableUpdate<string, number>> = [];
    source.pipe(countByKey({ ttl: 100, clock })).subscribe((u) => updates.push(u));
    const send = (key: string, timestamp: number) => {
      source.next({ key, timestamp });
      clock.observe(timestamp);
    };
    send('a', 0);
    send('a', 50);
    send('b', 120); // a last updated at 50: expires when the watermark reaches 150
    send('a', 140); // still alive: 3
    send('b', 300); // taken at watermark 140: b=2 (last 300 now); then the watermark 300 expires a (last 140, at 240)
    send('c', 700); // watermark 700: b (last 300) expires at 400
    send('a', 710); // a starts again: 1
    send('b', 720); // and b: 1
    expect(updates.map((u) => `${u.key}=${u.value}`)).toEqual(['a=1', 'a=2', 'b=1', 'a=3', 'b=2', 'c=1', 'a=1', 'b=1']);
  });

  it('needs an event-time clock', () => {
    expect(() => countByKey({ ttl: 100 })).toThrow(ConfigError);
    expect(() => countByKey({ ttl: 0, clock: new WatermarkClock() })).toThrow(ConfigError);
  });

  it('inside a processor, the last update times are restored with the table: keys expire after a restart too', async () => {
    const log = new MemoryLog();
    log.createTopic('events', 1);
    const send = (events: Array<[string, number]>) => log.producer().send('events', events.map(([key, ts]) => ({ key, value: JSON.stringify({ ts }) })));
    const start = async () => {
      const app = createTributary({
        log,
        logger: createLogger({ level: 'silent' }),
        processors: [
          defineProcessor<string | null, { ts: number }>({
            id: 'counts',
            source: { topics: 'events', timestamp: (r) => r.value.ts },
            pipeline: (records) => records.pipe(countByKey({ store: 'counts', ttl: 100 })),
            sinks: toFunction('out', () => undefined),
          }),
        ],
      });
      await app.start();
      return app;
    };
    await send([['a', 0], ['b', 50], ['a', 60]]);
    const first = await start();
    await eventually(async () => expect(await first.query('counts', 'counts', 'b')).toMatchObject({ found: true, value: 1 }));
    await first.stop();
    await send([['c', 155]]); // watermark 155: b (last 50) has expired, a (last 60) not yet
    const second = await start();
    await eventually(async () => expect(await second.query('counts', 'counts', 'c')).toMatchObject({ found: true, value: 1 }));
    expect(await second.query('counts', 'counts', 'b')).toMatchObject({ found: false });
    expect(await second.query('counts', 'counts', 'a')).toMatchObject({ found: true, value: 2 });
    await second.stop();
  });
});
