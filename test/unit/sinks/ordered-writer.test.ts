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

  it('resolves a write once the request holding its last item is acknowledged, before the later requests of its round', async () => {
    const sent: string[][] = [];
    const gates: Array<() => void> = [];
    let hold = true;
    const writer = new OrderedWriter<string>(
      async (batch) => {
        sent.push(batch);
        if (hold) await new Promise<void>((r) => gates.push(r));
      },
      { maxItems: 2 },
    );
    const settled: string[] = [];
    const track = (name: string, p: Promise<void>) => p.then(() => void settled.push(name));
    const first = track('first', writer.write(['a'])); // alone in flight: the rest gathers behind it
    const second = track('second', writer.write(['b', 'c']));
    const third = track('third', writer.write(['d', 'e', 'f']));
    const tick = () => new Promise((r) => setTimeout(r, 5));
    await tick();
    gates.shift()!(); // ['a'] acknowledged
    await tick();
    expect(settled).toEqual(['first']);
    expect(sent).toEqual([['a'], ['b', 'c']]);
    gates.shift()!(); // ['b', 'c'] acknowledged: second is complete, though ['d', 'e'] and ['f'] are not sent yet
    await tick();
    expect(settled).toEqual(['first', 'second']);
    hold = false;
    gates.shift()!(); // ['d', 'e']
    await Promise.all([first, second, third]);
    expect(settled).toEqual(['first', 'second', 'third']);
    expect(sent).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
  });

  it('after a failure in the middle of a round, writes acknowledged before it stay delivered; the rest fail with their origins', async () => {
    const writer = new OrderedWriter<string>(
      async (batch) => {
        await new Promise((r) => setTimeout(r, 1));
        if (batch.includes('x')) throw new Error('refused');
      },
      { maxItems: 1 },
    );
    const head = writer.write(['h'], 'p9#1'); // in flight alone; the rest is one round of three requests
    const ok = writer.write(['a'], 'p0#1');
    const bad = writer.write(['x'], 'p1#1');
    const after = writer.write(['b'], 'p0#1');
    await expect(head).resolves.toBeUndefined();
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('refused');
    await expect(after).rejects.toThrow('refused'); // sent after the failure: not applied, its origin failed
    await expect(writer.write(['c'], 'p0#1')).rejects.toThrow('refused');
    await expect(writer.write(['d'], 'p2#1')).resolves.toBeUndefined();
  });
});
