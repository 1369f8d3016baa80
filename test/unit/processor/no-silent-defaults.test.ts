import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { counting } from '../../../src/streams/counting.js';
import type { LateRecord } from '../../../src/streams/late-output.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import type { WindowResult } from '../../../src/streams/window-result.js';

const logger = createLogger({ level: 'silent' });

interface Click {
  readonly page: string;
  readonly i: number;
}

describe('no silent defaults (issue 21)', () => {
  it("a window over plain values (no timestamp, clock, late or holds given) takes each value's record time, the processor's clock and its late output: results equal a plain loop, the late record is handed over with why, nothing fails", async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', 1);
    // Log timestamps are the event times: the values carry none.
    const times = [1_000, 1_010, 1_150, 1_020, 1_260, 1_190];
    await log.producer().send('clicks', times.map((timestamp, i) => ({ key: 'u', value: JSON.stringify({ page: i % 2 === 0 ? '/a' : '/b', i }), timestamp })));
    const counts: string[] = [];
    const late: Array<LateRecord<Click>> = [];
    let failures = 0;
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string, Click>({
          id: 'clicks',
          source: { topics: 'clicks' },
          eventTime: { outOfOrdernessMs: 50 },
          pipeline: (records: Observable<StreamRecord<string, Click>>) =>
            records.pipe(
              map((r) => r.value),
              tumbling({ size: 100, key: (c: Click) => c.page, aggregate: counting() }),
            ),
          sinks: {
            default: toFunction('counts', (items: ReadonlyArray<WindowResult<string, number>>) => void counts.push(...items.map((w) => `${w.key}@${w.windowStart}=${w.value}`))),
            late: toFunction('late', (items: ReadonlyArray<LateRecord<Click>>) => void late.push(...items)),
          },
        }),
      ],
    });
    app.lifecycle.subscribe((e) => e.type === 'partition.failed' && failures++);
    await app.start();
    await app.finishInput({ timeoutMs: 20_000 });
    await app.stop();
    // The plain loop: watermark = max time seen − 50; a record is late once its window [s, s+100) has end ≤ watermark.
    const expected = new Map<string, number>();
    const lateIs: number[] = [];
    let max = -Infinity;
    times.forEach((t, i) => {
      const start = Math.floor(t / 100) * 100;
      if (start + 100 <= max - 50) lateIs.push(i);
      else expected.set(`${i % 2 === 0 ? '/a' : '/b'}@${start}`, (expected.get(`${i % 2 === 0 ? '/a' : '/b'}@${start}`) ?? 0) + 1);
      max = Math.max(max, t);
    });
    expect(failures).toBe(0);
    expect(counts.sort()).toEqual([...expected].map(([k, n]) => `${k}=${n}`).sort());
    // 1,020 after 1,150 − 50 = 1,100 closed [1000, 1100); 1,190 after 1,260 − 50 = 1,210 closed [1100, 1200).
    expect(lateIs).toEqual([3, 5]);
    expect(late.map((l) => [l.element.i, l.info.operator, l.info.timestamp])).toEqual([
      [3, 'tumbling', 1_020],
      [5, 'tumbling', 1_190],
    ]);
  });
});
