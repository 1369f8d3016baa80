import type { SeededRandom } from '../shared/seeded-random.js';
import type { NexmarkEvent } from './events.js';

const json = (event: object): string => JSON.stringify(event);

/**
 * The ways a generated line can be malformed (each a dead letter); each keeps the event's type
 * and key where it can, so it lands on its topic and partition.
 */
export const MALFORMED_EVENTS: ReadonlyArray<(e: NexmarkEvent, random: SeededRandom) => string> = [
  (e, random) => {
    const full = json(e);
    return full.slice(0, random.int(1, full.length - 1)); // truncated JSON
  },
  (e) => `type=${e.type}&dateTime=${e.dateTime}`, // not JSON
  (e) => `${json(e)} trailing`, // garbage after the object
  (e) => json({ ...e, type: 'bidd' }), // an unknown type
  (e) => json({ ...e, type: undefined }), // no type
  (e) => json({ ...e, dateTime: undefined }), // a missing field
  (e) => json({ ...e, dateTime: String(e.dateTime) }), // a number as a string
  (e) => json({ ...e, dateTime: true }), // a boolean is not a number
  (e) => json({ ...e, extra: null }), // an optional field present as null
  (e) => json({ ...e, extra: 7 }), // an optional field of the wrong type
  (e) => json(e).replace(/"dateTime":(-?\d+)/, '"dateTime":$1.5'), // a float
  (e) => json(e).replace(/"dateTime":(-?\d+)/, '"dateTime":9007199254740993'), // not a safe integer
  (e) => json(e).replace(/"dateTime":(-?\d+)/, '"dateTime":1e400'), // overflows to Infinity
  (e) => `{"__proto__":{"polluted":true},${json(e).slice(1)}`, // prototype pollution
  (e) => (e.type === 'person' ? json({ ...e, name: 42 }) : e.type === 'auction' ? json({ ...e, seller: 'p-1' }) : json({ ...e, channel: null })), // a field of the wrong type
  (e) => (e.type === 'auction' ? json({ ...e, expires: e.dateTime }) : json({ ...e, type: 'auction' })), // expires not after dateTime; a bid or person is no auction
  (e, random) => random.pick(['[1,2,3]', '"bid"', 'null', '42', `[${json(e)}]`, '{}']), // not an object
];
