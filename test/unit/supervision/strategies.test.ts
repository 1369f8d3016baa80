import { describe, expect, it } from 'vitest';
import { harness, ofType, record } from './support.js';

describe('supervisor strategies', () => {
  it('one-for-one restarts only the failed child', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { strategy: 'one-for-one' }, children: ['a', 'b', 'c'].map((id) => fakes.spec(id)) });
    await sup.start();
    expect(fakes.log).toEqual(['start a', 'start b', 'start c']);
    fakes.clearLog();

    fakes.crash('b');
    await clock.settle();
    expect(sup.whichChildren().map((c) => [c.id, c.state])).toEqual([['a', 'running'], ['b', 'restarting'], ['c', 'running']]);
    await clock.advance(100);

    expect(fakes.log).toEqual(['start b']);
    expect(sup.whichChildren().every((c) => c.state === 'running')).toBe(true);
  });

  it('one-for-all stops the siblings in reverse order and restarts all children in order', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { strategy: 'one-for-all' }, children: ['a', 'b', 'c', 'd'].map((id) => fakes.spec(id)) });
    const events = record(sup);
    await sup.start();
    fakes.clearLog();

    fakes.crash('b');
    await clock.settle();
    expect(fakes.log).toEqual(['stop d (restart)', 'stop c (restart)', 'stop a (restart)']);
    await clock.advance(100);

    expect(fakes.log.slice(3)).toEqual(['start a', 'start b', 'start c', 'start d']);
    expect(ofType(events, 'supervisor.child-restarting')).toMatchObject([{ child: 'b', children: ['a', 'b', 'c', 'd'], attempt: 1, delayMs: 100 }]);
  });

  it('rest-for-one restarts the failed child and those started after it, in order, and no others', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { strategy: 'rest-for-one' }, children: ['a', 'b', 'c', 'd'].map((id) => fakes.spec(id)) });
    await sup.start();
    fakes.clearLog();

    fakes.crash('b');
    await clock.settle();
    await clock.advance(100);

    expect(fakes.log).toEqual(['stop d (restart)', 'stop c (restart)', 'start b', 'start c', 'start d']);
    expect(fakes.startsOf('a')).toBe(1);
  });

  it('rest-for-one merges a pending restart into the restart of an earlier child, starting each child once', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { strategy: 'rest-for-one' }, children: ['a', 'b', 'c'].map((id) => fakes.spec(id)) });
    await sup.start();
    fakes.clearLog();

    fakes.crash('c'); // c waits 100 ms
    await clock.settle();
    await clock.advance(50);
    fakes.crash('a'); // a, b and c now restart together after a's backoff
    await clock.settle();
    await clock.advance(100);

    expect(fakes.log).toEqual(['stop b (restart)', 'start a', 'start b', 'start c']);
    expect(sup.whichChildren().every((c) => c.state === 'running')).toBe(true);
  });

  it('counts a child failing to start as a failure and goes on starting the others under one-for-one', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({
      name: 'sup',
      children: [fakes.spec('a'), fakes.spec('b', { failStart: (n) => n === 1 }), fakes.spec('c')],
    });
    const events = record(sup);
    await sup.start();
    expect(fakes.log).toEqual(['start a', 'start-failed b', 'start c']);
    expect(ofType(events, 'supervisor.child-failed')).toMatchObject([{ child: 'b', phase: 'start', error: { message: 'b failed to start (1)' } }]);

    await clock.advance(100);
    expect(fakes.log.at(-1)).toBe('start b');
    expect(sup.snapshot().recentRestarts).toBe(1);
  });

  it('under rest-for-one starts the children after one that failed to start only once it has started', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({
      name: 'sup',
      flags: { strategy: 'rest-for-one' },
      children: [fakes.spec('a'), fakes.spec('b', { failStart: (n) => n <= 2 }), fakes.spec('c')],
    });
    await sup.start();
    expect(fakes.log).toEqual(['start a', 'start-failed b']);
    expect(sup.whichChildren().map((c) => c.state)).toEqual(['running', 'restarting', 'restarting']);

    await clock.advance(100); // second start of b fails too: 200 ms more
    await clock.advance(200);
    expect(fakes.log).toEqual(['start a', 'start-failed b', 'start-failed b', 'start b', 'start c']);
  });

  it('under one-for-all stops the children already started when a later one fails to start, then starts all again', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({
      name: 'sup',
      flags: { strategy: 'one-for-all' },
      children: [fakes.spec('a'), fakes.spec('b'), fakes.spec('c', { failStart: (n) => n === 1 })],
    });
    await sup.start();
    await clock.advance(100);
    expect(fakes.log).toEqual(['start a', 'start b', 'start-failed c', 'stop b (restart)', 'stop a (restart)', 'start a', 'start b', 'start c']);
  });
});
