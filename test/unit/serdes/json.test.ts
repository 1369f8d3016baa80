import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { json } from '../../../src/serdes/json.js';

const click = z.object({ userId: z.string(), page: z.string(), ts: z.number().int() });

describe('json serde', () => {
  it('parses a valid record and validates it against the schema', () => {
    const serde = json({ schema: click });
    expect(serde.deserialize(Buffer.from('{"userId":"u1","page":"/","ts":5}'))).toEqual({ userId: 'u1', page: '/', ts: 5 });
  });

  it('names malformed JSON as the reason', () => {
    expect(() => json().deserialize(Buffer.from('{"userId":'))).toThrow(/^malformed JSON/);
  });

  it('rejects a __proto__ key instead of polluting prototypes', () => {
    expect(() => json().deserialize(Buffer.from('{"a":1,"__proto__":{"polluted":true}}'))).toThrow(/forbidden key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a __proto__ key spelled with unicode escapes', () => {
    expect(() => json().deserialize(Buffer.from('{"\\u005f_proto__":{"polluted":true}}'))).toThrow(/forbidden key/);
  });

  it('rejects a constructor.prototype path', () => {
    expect(() => json().deserialize(Buffer.from('{"constructor":{"prototype":{"x":1}}}'))).toThrow(/forbidden key/);
  });

  it('names the failing fields of a schema violation', () => {
    expect(() => json({ schema: click }).deserialize(Buffer.from('{"userId":1,"page":"/","ts":1.5}'))).toThrow(
      /schema violation: userId: .*; ts: /,
    );
  });

  it('rejects an empty payload unless null is allowed', () => {
    expect(() => json().deserialize(null)).toThrow(/empty payload/);
    expect(json({ allowNull: true }).deserialize(null)).toBeNull();
  });

  it('serializes to UTF-8 JSON', () => {
    expect(String(json().serialize({ a: 'é' }))).toBe('{"a":"é"}');
  });
});
