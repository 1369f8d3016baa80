import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { advanceOnIdle } from '../../../src/streams/advance-on-idle.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';

const scheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('advanceOnIdle', () => {
  it('advances to the wall clock minus the bound after the idle timeout, and keeps following it while idle', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const clock = new WatermarkClock({ outOfOrderness: 5 });
      expectObservable(advanceOnIdle({ clock, idleTimeout: 10, scheduler: ts }), '^ 35ms !').toBe('10ms a 9ms b 9ms c', {
        a: 5,
        b: 15,
        c: 25,
      });
    });
  });

  it('waits a full idle timeout after the last record before advancing', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const clock = new WatermarkClock({ outOfOrderness: 0 });
      // records at 4 ms and 8 ms: idle from 8 ms, so the first advance comes at 18 ms
      cold('4ms a 3ms b').subscribe((v) => clock.observe(v === 'a' ? 1 : 2));
      expectObservable(advanceOnIdle({ clock, idleTimeout: 10, scheduler: ts }), '^ 20ms !').toBe('18ms a', { a: 18 });
    });
  });

  it('uses a custom target and never moves the watermark backwards', () => {
    const ts = scheduler();
    ts.run(({ expectObservable, flush }) => {
      const clock = new WatermarkClock({ outOfOrderness: 1_000 });
      clock.observe(5_000); // watermark 4000
      expectObservable(
        advanceOnIdle({ clock, idleTimeout: 10, scheduler: ts, target: ({ maxEventTime }) => maxEventTime }),
        '^ 25ms !',
      ).toBe('10ms a', { a: 5_000 });
      flush();
      expect(clock.current).toBe(5_000);
    });
  });

  it('cancels its timer when unsubscribed', () => {
    const ts = scheduler();
    ts.run(() => {
      const clock = new WatermarkClock();
      const sub = advanceOnIdle({ clock, idleTimeout: 10, scheduler: ts }).subscribe();
      expect(ts.actions.length).toBe(1);
      sub.unsubscribe();
      expect(ts.actions.filter((a) => !a.closed).length).toBe(0);
    });
  });

  it('completes when the clock closes', () => {
    const clock = new WatermarkClock();
    let completed = false;
    advanceOnIdle({ clock, idleTimeout: 10, scheduler: scheduler() }).subscribe({ complete: () => (completed = true) });
    clock.close();
    expect(completed).toBe(true);
  });

  it('rejects a missing or non-positive idle timeout', () => {
    const clock = new WatermarkClock();
    expect(() => advanceOnIdle({ clock, idleTimeout: 0 })).toThrow(ConfigError);
    expect(() => advanceOnIdle({ clock, idleTimeout: -5 })).toThrow(/advanceOnIdle\.idleTimeout/);
  });
});
