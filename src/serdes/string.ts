import type { Serde } from './serde.js';

/**
 * UTF-8 strings. A null payload deserializes to `null`.
 *
 * @example
 * string().deserialize(Buffer.from('user-1')); // 'user-1'
 */
export function string(): Serde<string | null> {
  return {
    name: 'string',
    deserialize: (bytes) => (bytes === null ? null : bytes.toString('utf8')),
    serialize: (value) => value,
  };
}
