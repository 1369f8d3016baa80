import type { Serde } from './serde.js';

/**
 * Raw bytes, untouched.
 *
 * @example
 * bytes().deserialize(Buffer.from([1, 2])); // <Buffer 01 02>
 */
export function bytes(): Serde<Buffer | null> {
  return {
    name: 'bytes',
    deserialize: (b) => b,
    serialize: (value) => value,
  };
}
