/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same sequence on every
 * machine, so a generated input file is reproducible from its seed. Its functions never use
 * `this`: `const { int, pick } = random` is safe.
 *
 * @example
 * const random = seededRandom(42);
 * random.next();        // [0, 1)
 * random.int(1, 6);     // a die
 * random.exponential(40_000); // mean 40 s
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(this: void): number;
  /** Uniform integer in [min, max]. */
  int(this: void, min: number, max: number): number;
  /** True with probability `p`. */
  chance(this: void, p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(this: void, items: readonly T[]): T;
  /** Exponentially distributed with this mean. */
  exponential(this: void, mean: number): number;
}

export function seededRandom(seed: number): SeededRandom {
  // Mix the seed so that nearby seeds give unrelated sequences.
  const next = mulberry32(Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ (Math.floor(seed / 2 ** 32) | 0));
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    exponential: (mean) => -Math.log(1 - next()) * mean,
  };
}

/**
 * The mulberry32 generator from a 32-bit initial state: uniform numbers in [0, 1). The seeded
 * sources here and in the chaos suite differ only in how they mix their seed into that state.
 *
 * @example
 * const next = mulberry32(42);
 * next(); // [0, 1)
 */
export function mulberry32(initial: number): () => number {
  let state = initial >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
