import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';

/**
 * The V8 serialization format (`node:v8` serialize) of the containers state holds — plain
 * objects, dense arrays, `Set`, `Map` and `Buffer`, of numbers, strings, booleans, null and
 * undefined — written without V8's serializer. Why: every `serialize()` of an object makes a
 * `DefaultSerializer` whose native side (an identity map in an 8 KiB zone) is freed only when the
 * garbage collector finalizes it, and V8 does not count that memory: `npm run demo` at 1M
 * clicks had 54-107 MB of such zones outstanding at its malloc peak (heaptrack), from the window
 * stores' changelog values (`{ seq, value }`, the session accumulator's `Set` of pages).
 *
 * Anything else (class instances, `Date`, `BigInt`, typed arrays other than `Buffer`, holes, an
 * object met twice, nesting deeper than 32) returns undefined: the caller uses `serialize`. The
 * bytes are V8's own, checked against `serialize` and `deserialize` when this module loads; the
 * fast path stays off if they differ (e.g. another format version).
 *
 * @example
 * fastSerializeObject({ seq: 3, value: Buffer.from('ab') }); // the bytes of v8.serialize of it
 */
export function fastSerializeObject(value: object): Buffer | undefined {
  return enabled ? encodeObject(value) : undefined;
}

const VERSION = serialize(0)[1];
const MAX_DEPTH = 32;
// Node's DefaultSerializer writes a Buffer as host object 10 (FastBuffer), then its length and bytes.
const HOST_BUFFER = 10;

let out = Buffer.allocUnsafeSlow(4_096);
let at = 0;
// Objects on the path being written: one met again (a cycle, or shared) goes to V8, which writes references.
const seen = new Set<object>();

function encodeObject(value: object): Buffer | undefined {
  at = 0;
  byte(0xff);
  byte(VERSION);
  seen.clear();
  const ok = write(value, 0);
  seen.clear();
  if (!ok) return undefined;
  const bytes = Buffer.allocUnsafe(at);
  out.copy(bytes, 0, 0, at);
  return bytes;
}

function room(n: number): void {
  if (at + n <= out.length) return;
  const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, at + n));
  out.copy(bigger, 0, 0, at);
  out = bigger;
}

function byte(b: number): void {
  room(1);
  out[at++] = b;
}

function varint(n: number): void {
  room(10);
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
}

function writeString(s: string): boolean {
  let oneByte = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      oneByte = false;
      break;
    }
  }
  if (oneByte) {
    byte(0x22); // '"'
    varint(s.length);
    room(s.length);
    at += out.write(s, at, 'latin1');
    return true;
  }
  const bytes = s.length * 2;
  // V8 pads so that the UTF-16 code units start at an even position.
  if ((at + 1 + varintLength(bytes)) & 1) byte(0x00);
  byte(0x63); // 'c'
  varint(bytes);
  room(bytes);
  at += out.write(s, at, 'utf16le');
  return true;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

function write(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'number':
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)) {
        byte(0x49); // 'I'
        varint(value >= 0 ? value * 2 : -value * 2 - 1);
      } else {
        byte(0x4e); // 'N'
        room(8);
        at = out.writeDoubleLE(value, at);
      }
      return true;
    case 'string':
      return writeString(value);
    case 'boolean':
      byte(value ? 0x54 : 0x46);
      return true;
    case 'undefined':
      byte(0x5f);
      return true;
    case 'object':
      if (value === null) {
        byte(0x30);
        return true;
      }
      if (depth >= MAX_DEPTH || seen.has(value)) return false;
      seen.add(value);
      return writeContainer(value, depth + 1);
    default:
      return false;
  }
}

function writeContainer(value: object, depth: number): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    byte(0x6f); // 'o'
    let count = 0;
    for (const key of Object.keys(value)) {
      // Integer-like keys are elements to V8, written in another order: V8's job.
      if (isIndex(key)) return false;
      if (!writeString(key) || !write((value as Record<string, unknown>)[key], depth)) return false;
      count++;
    }
    // Symbol keys are skipped by V8 too; accessors would run there as here (Object.keys read them).
    byte(0x7b); // '{'
    varint(count);
    return true;
  }
  if (proto === Array.prototype) {
    const array = value as unknown[];
    if (Object.keys(array).length !== array.length) return false; // holes or extra properties
    byte(0x41); // 'A'
    varint(array.length);
    for (let i = 0; i < array.length; i++) if (!write(array[i], depth)) return false;
    byte(0x24); // '$'
    varint(0);
    varint(array.length);
    return true;
  }
  if (proto === Set.prototype) {
    byte(0x27); // '\''
    for (const item of value as Set<unknown>) if (!write(item, depth)) return false;
    byte(0x2c); // ','
    varint((value as Set<unknown>).size);
    return true;
  }
  if (proto === Map.prototype) {
    byte(0x3b); // ';'
    for (const [k, v] of value as Map<unknown, unknown>) if (!write(k, depth) || !write(v, depth)) return false;
    byte(0x3a); // ':'
    varint(2 * (value as Map<unknown, unknown>).size);
    return true;
  }
  if (proto === Buffer.prototype) {
    const buffer = value as Buffer;
    byte(0x5c); // '\\': a host object
    varint(HOST_BUFFER);
    varint(buffer.length);
    room(buffer.length);
    at += buffer.copy(out, at);
    return true;
  }
  return false;
}

function isIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first < 0x30 || first > 0x39 || key.length > 10) return false;
  if (!/^(0|[1-9]\d*)$/.test(key)) return false;
  return Number(key) < 2 ** 32 - 1;
}

/** Whether the fast path writes V8's bytes, and V8 reads them back, on this Node. */
const enabled = (() => {
  const probes: object[] = [
    { seq: 3, value: Buffer.from('ab') },
    { seq: 0, value: null },
    { events: 2, pages: new Set(['/a', '/b', '/emoji-🚀']) },
    { a: { b: [1, 'x', true, false, null, undefined, 1.5, -7, 2 ** 40] }, ['é']: '🚀', c: '' },
    [new Map<unknown, unknown>([['k', 1], [2, { z: 'ü' }]]), new Set(), [], {}],
    ['x🚀', 'y', { q: '🚀🚀' }],
  ];
  try {
    return probes.every((probe) => {
      const fast = encodeObject(probe);
      return fast !== undefined && fast.equals(serialize(probe)) && isDeepStrictEqual(deserialize(fast), probe);
    });
  } catch {
    return false;
  }
})();
