import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { defineProcessor, resolveProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';

const sink = toFunction('noop', () => {});
const define = (standbyReplicas: unknown, stores: 'lmdb' | 'memory' = 'lmdb') =>
  resolveProcessor(defineProcessor({ id: 'p', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: sink, stores, standbyReplicas: standbyReplicas as number }));

describe('standbyReplicas', () => {
  it('defaults to 0 and takes a small non-negative integer', () => {
    expect(define(undefined).standbyReplicas).toBe(0);
    expect(define(2).standbyReplicas).toBe(2);
    expect(define(0, 'memory').standbyReplicas).toBe(0);
  });

  it('rejects a negative, fractional or too large count, and standbys without stores on lmdb, naming the setting', () => {
    for (const bad of [-1, 1.5, 11, 'one']) expect(() => define(bad)).toThrow(ConfigError);
    expect(() => define(11)).toThrow(/p\.standbyReplicas.*at most 10/);
    expect(() => define(1, 'memory')).toThrow(/p\.standbyReplicas.*'lmdb'/);
  });
});
