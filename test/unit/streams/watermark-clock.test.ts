import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { MinWatermark } from '../../../src/streams/min-watermark.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';

describe('WatermarkClock', () => {
  it('starts at minus infinity and trails the largest event time by the out-of-orderness bound', () => {
    const clock = new WatermarkClock({ outOfOrderness: 5_000 });
    expect(clock.current).toBe(-Infinity);
    clock.observe(60_000);
    expect(clock.current).toBe(55_000);
    expect(clock.maxEventTime).toBe(60_000);
    clock.observe(58_000);
    expect(clock.current).toBe(55_000);
    clock.observe(61_000);
    expect(clock.current).toBe(56_000);
  });

  it('never moves the watermark backwards, whatever advanceTo is asked', () => {
    const clock = new WatermarkClock();
    const seen: number[] = [];
    clock.advances.subscribe((wm) => seen.push(wm));
    clock.advanceTo(100);
    clock.advanceTo(50);
    clock.advanceTo(100);
    clock.observe(80);
    clock.advanceTo(120);
    expect(seen).toEqual([100, 120]);
    expect(clock.current).toBe(120);
  });

  it('goes to plus infinity on close, then completes its advances', () => {
    const clock = new WatermarkClock();
    const seen: number[] = [];
    let completed = false;
    clock.advances.subscribe({ next: (wm) => seen.push(wm), complete: () => (completed = true) });
    clock.observe(10);
    clock.close();
    expect(seen).toEqual([10, Infinity]);
    expect(completed).toBe(true);
    expect(clock.closed).toBe(true);
  });

  it('notifies subscribers in the order they subscribed', () => {
    const clock = new WatermarkClock();
    const order: string[] = [];
    clock.advances.subscribe(() => order.push('first'));
    clock.advances.subscribe(() => order.push('second'));
    clock.advanceTo(1);
    expect(order).toEqual(['first', 'second']);
  });

  it('delivers an advance requested during a delivery only after every subscriber saw the current one', () => {
    const clock = new WatermarkClock();
    const seen: string[] = [];
    clock.advances.subscribe((wm) => {
      seen.push(`a${wm}`);
      if (wm === 1) clock.advanceTo(2);
    });
    clock.advances.subscribe((wm) => seen.push(`b${wm}`));
    clock.advanceTo(1);
    expect(seen).toEqual(['a1', 'b1', 'a2', 'b2']);
  });

  it('starts from a restored watermark when given one', () => {
    const clock = new WatermarkClock({ initial: 1_000 });
    clock.observe(500);
    expect(clock.current).toBe(1_000);
  });

  it('reports each observed event time for idle detection', () => {
    const clock = new WatermarkClock();
    const seen: number[] = [];
    clock.observations.subscribe((t) => seen.push(t));
    clock.observe(5);
    clock.observe(3);
    expect(seen).toEqual([5, 3]);
  });

  it('rejects a negative bound, a NaN watermark and a non-finite event time', () => {
    expect(() => new WatermarkClock({ outOfOrderness: -1 })).toThrow(ConfigError);
    expect(() => new WatermarkClock({ outOfOrderness: -1 })).toThrow(/WatermarkClock\.outOfOrderness/);
    const clock = new WatermarkClock();
    expect(() => clock.advanceTo(Number.NaN)).toThrow(RangeError);
    expect(() => clock.observe(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('MinWatermark', () => {
  it('advances the downstream clock to the minimum of the upstream watermarks', () => {
    const clock = new WatermarkClock();
    const min = new MinWatermark({ clock, upstreams: [0, 1] });
    min.update(0, 60_000);
    expect(clock.current).toBe(-Infinity);
    min.update(1, 55_000);
    expect(clock.current).toBe(55_000);
    min.update(1, 70_000);
    expect(clock.current).toBe(60_000);
    min.update(0, 10); // older: ignored
    expect(min.current).toBe(60_000);
    min.update(0, Infinity);
    min.update(1, Infinity);
    expect(clock.closed).toBe(true);
  });

  it('rejects unknown upstreams and an empty upstream list', () => {
    const clock = new WatermarkClock();
    expect(() => new MinWatermark({ clock, upstreams: [] })).toThrow(ConfigError);
    const min = new MinWatermark({ clock, upstreams: ['a'] });
    expect(() => min.update('b', 1)).toThrow(RangeError);
  });
});
