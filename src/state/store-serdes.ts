import { deserialize, serialize } from 'node:v8';
import type { Serde } from '../serdes/serde.js';
import { fastDeserialize, fastSerialize } from './v8-fast-values.js';

/**
 * The default key serde of stores: JSON. Keys are compared as bytes by the changelog's
 * compaction, and JSON of a string or a number is one text for one value. Keys of keyed
 * operators are strings or numbers (compared like `Map` keys), so JSON covers them.
 *
 * @example
 * jsonKeys.serialize('user-1'); // '"user-1"'
 */
export const jsonKeys: Serde<unknown> = {
  name: 'json-key',
  serialize: (key) => JSON.stringify(key) ?? 'null',
  deserialize: (bytes) => (bytes === null ? null : (plainJsonString(bytes) ?? (JSON.parse(bytes.toString()) as unknown))),
};

/** The string of a JSON string without escapes (`"k123"`), read without JSON.parse; else undefined. */
function plainJsonString(bytes: Buffer): string | undefined {
  const last = bytes.length - 1;
  if (last < 1 || bytes[0] !== 0x22 || bytes[last] !== 0x22) return undefined;
  for (let i = 1; i < last; i++) if (bytes[i] === 0x5c || bytes[i] === 0x22 || bytes[i] < 0x20) return undefined;
  return bytes.toString('utf8', 1, last);
}

/**
 * The default value serde of stores: V8's structured clone (`node:v8` serialize), which keeps
 * what accumulators are made of — numbers, strings, BigInt, arrays, plain objects, `Map`,
 * `Set`, `Date` — without a schema. Class instances come back as plain objects: give the
 * store a serde of your own for those. The format is V8's, readable by later Node versions.
 *
 * @example
 * structuredValues.deserialize(Buffer.from(structuredValues.serialize(new Set(['/home'])) as Buffer)); // Set { '/home' }
 */
export const structuredValues: Serde<unknown> = {
  name: 'v8',
  // Numbers, short strings, booleans: the same bytes, without V8's serializer objects.
  serialize: (value) => fastSerialize(value) ?? serialize(value),
  deserialize: (bytes) => (bytes === null ? undefined : (fastDeserialize(bytes) ?? { value: deserialize(bytes) as unknown }).value),
};
