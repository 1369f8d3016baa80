import { deserialize, serialize } from 'node:v8';
import { fastSerializeObject } from './v8-fast-objects.js';

/**
 * The V8 serialization format (`node:v8` serialize) of the values state holds most often —
 * numbers, short Latin-1 strings, booleans, null, undefined — written and read without V8's
 * `DefaultSerializer`/`DefaultDeserializer` objects, which cost a few microseconds per call: a
 * changelog restore of a million counts would spend seconds there. The bytes are V8's own
 * encoding of the value (V8 itself writes a number either as an int32 or as a double, depending
 * on how it holds it), checked both ways when this module loads — `deserialize` reads what the
 * fast path writes, the fast path reads what `serialize` writes — and the fast path stays off
 * if not (e.g. another format version).
 *
 * @example
 * fastSerialize(42); // <Buffer ff 0f 49 54>
 * fastDeserialize(serialize(42)); // { value: 42 }
 */

const VERSION = serialize(0)[1];
const TAG_INT32 = 0x49; // 'I': zigzag varint
const TAG_DOUBLE = 0x4e; // 'N': 8 bytes, little-endian
const TAG_ONE_BYTE_STRING = 0x22; // '"': varint length, Latin-1 bytes
const TAG_TRUE = 0x54;
const TAG_FALSE = 0x46;
const TAG_NULL = 0x30;
const TAG_UNDEFINED = 0x5f;
/** Longer strings go through V8 (the fast path is for keys and small values). */
const MAX_FAST_STRING = 256;

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

function writeVarint(buffer: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buffer[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buffer[at++] = n;
  return at;
}

function header(length: number, tag: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  buffer[0] = 0xff;
  buffer[1] = VERSION;
  buffer[2] = tag;
  return buffer;
}

function encode(value: unknown): Buffer | undefined {
  switch (typeof value) {
    case 'number': {
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)) {
        const zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
        const buffer = header(3 + varintLength(zigzag), TAG_INT32);
        writeVarint(buffer, 3, zigzag);
        return buffer;
      }
      const buffer = header(11, TAG_DOUBLE);
      buffer.writeDoubleLE(value, 3);
      return buffer;
    }
    case 'string': {
      if (value.length > MAX_FAST_STRING) return undefined;
      for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return undefined;
      const buffer = header(3 + varintLength(value.length) + value.length, TAG_ONE_BYTE_STRING);
      buffer.write(value, writeVarint(buffer, 3, value.length), 'latin1');
      return buffer;
    }
    case 'boolean':
      return header(3, value ? TAG_TRUE : TAG_FALSE);
    case 'undefined':
      return header(3, TAG_UNDEFINED);
    case 'object':
      // Containers: see v8-fast-objects.ts (no DefaultSerializer and its zone per value).
      return value === null ? header(3, TAG_NULL) : fastSerializeObject(value);
    default:
      return undefined;
  }
}

/** A varint of at most 5 bytes at `at`: [value, offset after it], or undefined when cut short. */
function readVarint(bytes: Uint8Array, at: number): [number, number] | undefined {
  let n = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 5; i++) {
    n += (bytes[i] & 0x7f) * scale;
    if (bytes[i] < 0x80) return [n, i + 1];
    scale *= 0x80;
  }
  return undefined;
}

function decode(bytes: Uint8Array): { value: unknown } | undefined {
  if (bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== VERSION) return undefined;
  const tag = bytes[2];
  switch (tag) {
    case TAG_INT32: {
      const read = readVarint(bytes, 3);
      if (!read || read[1] !== bytes.length) return undefined;
      const zigzag = read[0];
      return { value: zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2 };
    }
    case TAG_DOUBLE:
      return bytes.length === 11 ? { value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readDoubleLE(3) } : undefined;
    case TAG_ONE_BYTE_STRING: {
      const read = readVarint(bytes, 3);
      if (!read || read[1] + read[0] !== bytes.length) return undefined;
      return { value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1', read[1]) };
    }
    case TAG_TRUE:
      return bytes.length === 3 ? { value: true } : undefined;
    case TAG_FALSE:
      return bytes.length === 3 ? { value: false } : undefined;
    case TAG_NULL:
      return bytes.length === 3 ? { value: null } : undefined;
    case TAG_UNDEFINED:
      return bytes.length === 3 ? { value: undefined } : undefined;
    default:
      return undefined;
  }
}

/** Whether V8 and the fast path read each other's bytes, on this Node. */
const enabled = [0, 1, -1, 63, 64, 300, 659_676, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 1.5, -0, NaN, '', 'abc', 'é', true, false, null, undefined].every((probe) => {
  const fast = encode(probe);
  const decoded = decode(serialize(probe));
  return fast !== undefined && Object.is(deserialize(fast), probe) && decoded !== undefined && Object.is(decoded.value, probe);
});

/** V8-format bytes of `value` when it is one of the simple kinds or a container of them (see `fastSerializeObject`), else undefined (use `serialize`). */
export function fastSerialize(value: unknown): Buffer | undefined {
  return enabled ? encode(value) : undefined;
}

/** The value of V8's bytes when they hold one of the simple kinds, else undefined (use `deserialize`). */
export function fastDeserialize(bytes: Uint8Array): { value: unknown } | undefined {
  return enabled ? decode(bytes) : undefined;
}
