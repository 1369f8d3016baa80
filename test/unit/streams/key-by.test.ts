import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { counting } from '../../../src/streams/counting.js';
import { EventTimeError } from '../../../src/streams/errors.js';
import { keyBy } from '../../../src/streams/key-by.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { withTimestamp } from '../../../src/streams/with-timestamp.js';
import { rec } from './support.js';

const marbles = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('keyBy', () => {
  it('re-keys each element and leaves the other fields alone', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a-b|', { a: rec('user-1', 5, 0, { page: '/a' }), b: rec('user-2', 6, 1, { page: '/b' }) });
      expectObservable(source.pipe(keyBy((r) => r.value.page))).toBe('a-b|', {
        a: rec('/a', 5, 0, { page: '/a' }),
        b: rec('/b', 6, 1, { page: '/b' }),
      });
    });
  });

  it('lets a keyed window group by the new key without a key option', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('ab|', { a: rec('u1', 1, 0, { page: '/a' }), b: rec('u2', 2, 1, { page: '/a' }) });
      const views = source.pipe(keyBy((r) => r.value.page), tumbling({ size: 10, aggregate: counting() }));
      expectObservable(views).toBe('--(x|)', {
        x: { key: '/a', windowStart: 0, windowEnd: 10, value: 2, timestamp: 9, offset: 0, final: true },
      });
    });
  });

  it('turns a throwing key function into an error notification', () => {
    const boom = new Error('boom');
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a', { a: rec('k', 1) });
      expectObservable(source.pipe(keyBy(() => { throw boom; }))).toBe('#', undefined, boom);
    });
  });

  it('rejects a key function that is not a function', () => {
    expect(() => keyBy(undefined as never)).toThrow(ConfigError);
  });
});

describe('withTimestamp', () => {
  it('re-stamps event time from the value', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a|', { a: rec('k', 0, 3, { ts: 1_234 }) });
      expectObservable(source.pipe(withTimestamp((r) => r.value.ts))).toBe('a|', { a: rec('k', 1_234, 3, { ts: 1_234 }) });
    });
  });

  it('fails the stream on a timestamp that is not a finite number', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a|', { a: rec('k', 0, 3, { ts: 'soon' }) });
      expectObservable(source.pipe(withTimestamp((r) => r.value.ts as unknown as number))).toBe(
        '#',
        undefined,
        new EventTimeError('withTimestamp', 'soon'),
      );
    });
  });
});
