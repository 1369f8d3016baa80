import { describe, expect, it } from 'vitest';
import { OrderedWriter } from '../../../src/sinks/ordered-writer.js';

describe('OrderedWriter', () => {
  it('coalesces writes made while a request is in flight, in order', async () => {
    const requests: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const writer = new OrderedWriter<string>(async (batch) => {
      requests.push(batch);
      if (requests.length === 1) await gate;
    });
    const first = writer.write(['a']);
    const second = writer.write(['b', 'c']);
    const third = writer.write(['d']);
    release();
    await Promise.all([first, second, third]);
    expect(requests).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('cuts requests at the byte bound', async () => {
    const requests: string[][] = [];
    const writer = new OrderedWriter<string>(async (batch) => void requests.push(batch), { sizeOf: (s) => s.length, maxBytes: 10 });
    await writer.write(['aaaa', 'bbbb', 'cccc', 'dd']);
    expect(requests).toEqual([['aaaa', 'bbbb'], ['cccc', 'dd']]);
  });

  it('after a failed request, applies no later write of the same origin, queued or new; other origins go on', async () => {
    const applied: string[] = [];
    let fail = true;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const writer = new OrderedWriter<string>(async (batch) => {
      if (batch.includes('p0-turn1')) {
        await gate;
        if (fail) throw new Error('record too large');
      }
      applied.push(...batch);
    });
    const lost = writer.write(['p0-turn1'], 'p0#1');
    const queuedSameOrigin = writer.write(['p0-turn2-watermark'], 'p0#1');
    const queuedOtherOrigin = writer.write(['p1-turn1'], 'p1#1');
    release();
    await expect(lost).rejects.toThrow('record too large');
    await expect(queuedSameOrigin).rejects.toThrow('record too large');
    await expect(queuedOtherOrigin).resolves.toBeUndefined();
    await expect(writer.write(['p0-turn3'], 'p0#1')).rejects.toThrow('record too large');
    fail = false;
    await writer.write(['p0-replay'], 'p0#2'); // the restarted pipeline, a new origin
    expect(applied).toEqual(['p1-turn1', 'p0-replay']);
  });
});
