import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { defineProcessor, resolveProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';

const sink = toFunction('noop', () => {});

describe('defineProcessor', () => {
  it('fills in documented defaults', () => {
    const resolved = resolveProcessor(defineProcessor({ id: 'p', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: sink }));
    expect(resolved).toMatchObject({
      groupId: 'p',
      topics: ['in'],
      deadLetterTopic: 'p.dlq',
      maxAttempts: 3,
      highWater: 10_000,
      lowWater: 5_000,
      maxRecordBytes: 1_048_576,
      commitIntervalMs: 1_000,
      singleOutput: true,
    });
  });

  it('resolves store backends for every store or per store name, and names a wrong one', () => {
    const define = (stores: unknown) => resolveProcessor(defineProcessor({ id: 'p', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: sink, stores: stores as 'lmdb' }));
    expect(define(undefined)).toMatchObject({ usesLmdb: false });
    expect(define('lmdb').storeBackend('anything')).toBe('lmdb');
    const perStore = define({ totals: 'lmdb', scratch: 'memory' });
    expect([perStore.usesLmdb, perStore.storeBackend('totals'), perStore.storeBackend('scratch'), perStore.storeBackend('other')]).toEqual([true, 'lmdb', 'memory', 'memory']);
    expect(() => define('rocksdb')).toThrow(/'p.stores'/);
    expect(() => define({ totals: 'disk' })).toThrow(/'p.stores.totals'/);
  });

  it('names the setting when the id is invalid', () => {
    expect(() => defineProcessor({ id: 'has space', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: sink })).toThrow(
      ConfigError,
    );
    expect(() => defineProcessor({ id: 'has space', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: sink })).toThrow(/'id'/);
  });

  it('rejects a processor without topics', () => {
    expect(() => defineProcessor({ id: 'p', source: { topics: [] }, pipeline: () => EMPTY, sinks: sink })).toThrow(/p.source.topics/);
  });

  it('rejects a low-water mark above the high-water mark', () => {
    expect(() =>
      defineProcessor({ id: 'p', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: sink, buffer: { highWater: 10, lowWater: 20 } }),
    ).toThrow(/p.buffer.lowWater/);
  });

  it('rejects a sink without a write function', () => {
    expect(() =>
      defineProcessor({ id: 'p', source: { topics: 'in' }, pipeline: () => EMPTY, sinks: { out: {} as never } }),
    ).toThrow(/p.sinks.out/);
  });
});
