/**
 * Seeded randomness for the chaos suite: the schedule, the input and the choice of records an
 * operator throws at all derive from the run's seed, so `--seed N` replays the same run plan.
 */

import { mulberry32 } from '../../examples/shared/seeded-random.js';

/** A seeded pseudo-random source (mulberry32). */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** A new array with the items in a seeded random order. */
  shuffle<T>(items: readonly T[]): T[];
}

/** A mulberry32 generator; nearby seeds give unrelated sequences. */
export function seededRandom(seed: number): Random {
  const next = mulberry32(mix32(seed));
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    shuffle: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
}

/** A 32-bit mix of a number (the seed may be any safe integer). */
function mix32(n: number): number {
  let h = Math.imul((n | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ (Math.floor(n / 2 ** 32) | 0);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

/**
 * A deterministic value in [0, 1) for a string (FNV-1a, then mixed): the same on every run and
 * process, so "does the operator throw at this record" is a function of the seed and the record.
 *
 * @example
 * unitHash(`${seed}:count:3:1042`) < 0.05;
 */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (mix32(h) >>> 0) / 4_294_967_296;
}
