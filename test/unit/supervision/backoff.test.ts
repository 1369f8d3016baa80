import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/supervision/backoff.js';
import { ConfigError } from '../../../src/errors.js';

describe('backoffDelay', () => {
  it('doubles from 100 ms and caps at 10 s without jitter', () => {
    const delays = [0, 1, 2, 3, 10].map((a) => backoffDelay(a, { jitter: 0 }));
    expect(delays).toEqual([100, 200, 400, 800, 10_000]);
  });

  it('spreads the delay by at most the jitter fraction', () => {
    expect(backoffDelay(2, { jitter: 0.2 }, () => 0)).toBe(320);
    expect(backoffDelay(2, { jitter: 0.2 }, () => 1)).toBe(480);
  });

  it('rejects a maximum below the minimum with an error naming the setting', () => {
    expect(() => backoffDelay(0, { minMs: 500, maxMs: 100 })).toThrow(ConfigError);
    expect(() => backoffDelay(0, { minMs: 500, maxMs: 100 })).toThrow(/backoff.maxMs/);
  });
});
