import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/connectors/log.js';
import { verifyTotals } from './totals-verifier.js';

const rec = (value: unknown, offset = 0): LogRecord => ({ topic: 't', partition: 0, offset, key: null, value: Buffer.from(JSON.stringify(value)), headers: {}, timestamp: 0 });
const window = (g: string, items: Array<[string, number]>) => rec({ g, ws: 0, we: 10, count: items.length, items: items.map(([k, s]) => [k, s, 0, 0]) });

describe('the group totals verifier', () => {
  const counts = [window('g1', [['a', 0], ['a', 1]]), window('g1', [['a', 0], ['a', 1]])]; // a window emitted twice
  const late = [rec({ k: 'b', seq: 0, g: 'g1', p: 0, o: 9, timestamp: 0 })];

  it('accepts counts 1..N, repeated or not, for N items of the group', () => {
    const totals = [1, 2, 2, 3].map((count) => rec({ g: 'g1', count }));
    expect(verifyTotals({ counts, late, totals }).violations).toEqual([]);
  });

  it('finds a total that double counted an item, and one that skipped a count', () => {
    expect(verifyTotals({ counts, late, totals: [1, 2, 3, 4].map((count) => rec({ g: 'g1', count })) }).violations.map((v) => v.kind)).toEqual(['wrong-total']);
    expect(verifyTotals({ counts, late, totals: [1, 3].map((count) => rec({ g: 'g1', count })) }).violations.map((v) => v.kind)).toEqual(['wrong-total']);
  });
});
