import { describe, expect, it } from 'vitest';
import { string } from '../../../src/serdes/string.js';

describe('string()', () => {
  it('decodes UTF-8, ASCII or not, and a null payload as null', () => {
    const serde = string();
    expect(serde.deserialize(Buffer.from('user-1'))).toBe('user-1');
    expect(serde.deserialize(Buffer.from('Zürich → 東京', 'utf8'))).toBe('Zürich → 東京');
    expect(serde.deserialize(Buffer.from('abcdef').subarray(2, 4))).toBe('cd');
    expect(serde.deserialize(Buffer.alloc(0))).toBe('');
    expect(serde.deserialize(null)).toBeNull();
  });
});
