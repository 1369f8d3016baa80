/**
 * Turns a record's key or value bytes into a typed value and back.
 *
 * `deserialize` throws an `Error` whose message is the reason (e.g. `malformed JSON: ...`); the
 * runtime turns it into a dead letter carrying that reason and the record's origin.
 *
 * @example
 * const upper: Serde<string> = {
 *   name: 'upper',
 *   deserialize: (bytes) => (bytes ?? Buffer.alloc(0)).toString('utf8').toUpperCase(),
 *   serialize: (value) => Buffer.from(value, 'utf8'),
 * };
 */
export interface Serde<T> {
  /** A short name for logs and dead-letter reasons: `'json'`, `'string'`, `'bytes'`. */
  readonly name: string;
  deserialize(bytes: Buffer | null): T;
  serialize(value: T): Buffer | string | null;
}
