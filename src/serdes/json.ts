import secureJsonParse from 'secure-json-parse';
import type { ZodType } from 'zod';
import type { Serde } from './serde.js';

function mayPollute(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
}

/** Options of {@link json}. */
export interface JsonSerdeOptions<T> {
  /** A zod schema every value must satisfy; a violation becomes a dead letter naming the fields. */
  readonly schema?: ZodType<T>;
  /** Whether a null (tombstone) or empty payload is allowed through as `null`. Default false. */
  readonly allowNull?: boolean;
}

/**
 * JSON, parsed safely: a `__proto__` key, or a `constructor.prototype` path, is rejected (no
 * prototype pollution), and an optional zod schema validates the result.
 *
 * @example
 * import { z } from 'zod';
 * const clicks = json({ schema: z.object({ userId: z.string(), page: z.string(), ts: z.number().int() }) });
 * clicks.deserialize(Buffer.from('{"userId":"u1","page":"/","ts":1}')); // { userId: 'u1', page: '/', ts: 1 }
 * clicks.deserialize(Buffer.from('{"userId":1}')); // throws: schema violation: userId: ...
 */
export function json<T = unknown>(options: JsonSerdeOptions<T> = {}): Serde<T> {
  const { schema, allowNull = false } = options;
  return {
    name: 'json',
    deserialize(bytes: Buffer | null): T {
      if (bytes === null || bytes.length === 0) {
        if (allowNull) return null as T;
        throw new Error('empty payload: expected a JSON value');
      }
      let parsed: unknown;
      const text = bytes.toString(); // UTF-8: Buffer's fast path without an encoding argument
      try {
        // The safe parser scans every text twice with regular expressions; only texts that could
        // name a prototype (literally, or through a \u escape) need it.
        parsed = mayPollute(text)
          ? secureJsonParse.parse(text, null, { protoAction: 'error', constructorAction: 'error' })
          : JSON.parse(text);
      } catch (err) {
        const what = err instanceof SyntaxError && /prototype/i.test(err.message) ? 'forbidden key' : 'malformed JSON';
        throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      }
      if (!schema) return parsed as T;
      const result = schema.safeParse(parsed);
      if (!result.success) {
        const issues = result.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
          .join('; ');
        throw new Error(`schema violation: ${issues}`);
      }
      return result.data;
    },
    serialize(value: T): Buffer {
      return Buffer.from(JSON.stringify(value), 'utf8');
    },
  };
}
