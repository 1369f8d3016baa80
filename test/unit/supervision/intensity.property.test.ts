import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RestartIntensity } from '../../../src/supervision/restart-intensity.js';
import { harness, ofType, record } from './support.js';

/** Restarts within the window of `periodMs` ending at `times[i]`, counting `times[i]`. */
function inWindow(times: readonly number[], i: number, periodMs: number): number {
  return times.slice(0, i + 1).filter((t) => times[i] - t < periodMs).length;
}

describe('restart intensity, as a property', () => {
  it('refuses a restart exactly when it makes more than intensity restarts within periodMs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.array(fc.integer({ min: 0, max: 1_500 }), { maxLength: 30 }),
        (intensity, periodMs, gaps) => {
          const times = gaps.reduce<number[]>((acc, gap) => [...acc, (acc.at(-1) ?? 0) + gap], []);
          const window = new RestartIntensity(intensity, periodMs);
          times.forEach((t, i) => expect(window.record(t)).toBe(inWindow(times, i, periodMs) <= intensity));
        },
      ),
    );
  });

  it('for any failure sequence, never restarts more than intensity times within any periodMs before escalating, and escalates on the first failure over it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 100, max: 5_000 }),
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
        async (intensity, periodMs, minMs, runs) => {
          const { clock, fakes, supervisor } = harness();
          const children = runs.map((durations, c) => fakes.spec(`c${c}`, { crashAfterMs: (n) => durations[n - 1] }));
          const sup = supervisor({ name: 'sup', onEscalation: 'stay-down', flags: { intensity, periodMs, backoff: { minMs, jitter: 0 } }, children });
          const events = record(sup);
          await sup.start();
          for (let guard = 0; clock.pendingTimers > 0 && sup.state === 'running' && guard < 200; guard++) await clock.next();

          const failures = ofType(events, 'supervisor.child-failed').map((e) => e.at);
          const restarts = ofType(events, 'supervisor.child-restarting').map((e) => e.at);
          const escalations = ofType(events, 'supervisor.escalated');
          restarts.forEach((_, i) => expect(inWindow(restarts, i, periodMs)).toBeLessThanOrEqual(intensity));

          const over = failures.findIndex((_, i) => inWindow(failures, i, periodMs) > intensity);
          if (over < 0) {
            expect(escalations).toEqual([]);
            expect(restarts).toEqual(failures);
          } else {
            expect(escalations.map((e) => e.at)).toEqual([failures[over]]);
            expect(restarts).toEqual(failures.slice(0, over));
            expect(failures).toHaveLength(over + 1);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
