import fc from 'fast-check';

/** One input event of a join test: which side, its join key (null: none), event time, index. */
export interface JoinEvent {
  readonly side: 'L' | 'R';
  readonly k: string | null;
  readonly ts: number;
  readonly i: number;
}

/**
 * Random interleavings of both sides: event times that mostly increase, with disorder up to
 * `jitter` ms (beyond the bound: some records late), a few null keys when `nullKeys`.
 */
export function joinEventsArb(options: { minLength?: number; maxLength?: number; jitter?: number; nullKeys?: boolean } = {}): fc.Arbitrary<JoinEvent[]> {
  const { minLength = 1, maxLength = 60, jitter = 6, nullKeys = false } = options;
  const keys: Array<string | null> = nullKeys ? ['a', 'b', 'c', null] : ['a', 'b', 'c'];
  return fc
    .array(
      fc.record({
        side: fc.constantFrom<'L' | 'R'>('L', 'R'),
        k: fc.constantFrom(...keys),
        step: fc.integer({ min: 0, max: 3 }),
        back: fc.integer({ min: 0, max: jitter }),
      }),
      { minLength, maxLength },
    )
    .map((raw) => {
      let base = 0;
      return raw.map((e, i) => ({ side: e.side, k: e.k, ts: (base += e.step) - e.back, i }));
    });
}

/**
 * The watermark before each event, as a partition's clock has it (deliver, then observe):
 * `max event time seen − bound`, `-Infinity` before the first.
 */
export function watermarksBefore(events: readonly JoinEvent[], bound: number): number[] {
  let max = -Infinity;
  return events.map((e) => {
    const wm = max - bound;
    if (e.ts > max) max = e.ts;
    return wm;
  });
}

export const sorted = (xs: readonly string[]): string[] => [...xs].sort();
