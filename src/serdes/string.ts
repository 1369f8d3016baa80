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
    // toString() without arguments is UTF-8 and Buffer's fast path (no encoding lookup, no range checks).
    deserialize: (bytes) => (bytes === null ? null : bytes.toString()),
    serialize: (value) => value,
  };
}
