import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { harness, ofType, record } from './support.js';

describe('stopping children', () => {
  it('stops the children in reverse start order, each after the previous one has ended', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', children: ['a', 'b', 'c'].map((id) => fakes.spec(id, { stopTakesMs: 50 })) });
    const events = record(sup);
    await sup.start();
    fakes.clearLog();

    let stopped = false;
    const stopping = sup.stop().then(() => (stopped = true));
    await clock.advance(50);
    expect(fakes.log).toEqual(['stop c (shutdown)', 'stop b (shutdown)']);
    await clock.advance(100);
    await stopping;

    expect(stopped).toBe(true);
    expect(fakes.log).toEqual(['stop c (shutdown)', 'stop b (shutdown)', 'stop a (shutdown)']);
    expect(sup.state).toBe('stopped');
    expect(ofType(events, 'supervisor.child-stopped')).toMatchObject([
      { child: 'c', exit: 'shutdown', stopReason: 'shutdown', killed: false },
      { child: 'b', exit: 'shutdown', stopReason: 'shutdown', killed: false },
      { child: 'a', exit: 'shutdown', stopReason: 'shutdown', killed: false },
    ]);
  });

  it('abandons a child that hangs on stop after its shutdown timeout and goes on with the next', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', children: [fakes.spec('a'), fakes.spec('stuck', { hangOnStop: true, shutdownTimeoutMs: 1_000 })] });
    const events = record(sup);
    await sup.start();
    fakes.clearLog();

    let stopped = false;
    void sup.stop().then(() => (stopped = true));
    await clock.advance(999);
    expect(stopped).toBe(false);
    expect(fakes.log).toEqual(['stop stuck (shutdown)']);
    await clock.advance(1);

    expect(stopped).toBe(true);
    expect(fakes.log).toEqual(['stop stuck (shutdown)', 'stop a (shutdown)']);
    expect(ofType(events, 'supervisor.child-stopped')[0]).toMatchObject({ child: 'stuck', exit: undefined, killed: true, at: clock.now() });
  });

  it('uses a default shutdown timeout of 5,000 ms', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', children: [fakes.spec('stuck', { hangOnStop: true })] });
    await sup.start();
    let stopped = false;
    void sup.stop().then(() => (stopped = true));
    await clock.advance(4_999);
    expect(stopped).toBe(false);
    await clock.advance(1);
    expect(stopped).toBe(true);
  });

  it('cancels pending restarts when it stops', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', children: [fakes.spec('a'), fakes.spec('b')] });
    await sup.start();
    fakes.crash('b');
    await clock.settle();

    await sup.stop();
    await clock.advance(60_000);

    expect(fakes.startsOf('b')).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    expect(sup.whichChildren().map((c) => c.state)).toEqual(['stopped', 'stopped']);
  });
});

describe('dynamic children', () => {
  it('starts a child added with startChild after the others, and stops it first', async () => {
    const { fakes, supervisor } = harness();
    const sup = supervisor({ name: 'processor', children: [fakes.spec('a')] });
    await sup.start();

    await sup.startChild(fakes.spec('partition:clicks-0'));
    expect(sup.whichChildren().map((c) => [c.id, c.state])).toEqual([['a', 'running'], ['partition:clicks-0', 'running']]);
    await sup.stop();
    expect(fakes.log).toEqual(['start a', 'start partition:clicks-0', 'stop partition:clicks-0 (shutdown)', 'stop a (shutdown)']);
  });

  it('rejects a child whose id is already in use', async () => {
    const { fakes, supervisor } = harness();
    const sup = supervisor({ name: 'processor', children: [fakes.spec('a')] });
    await sup.start();
    await expect(sup.startChild(fakes.spec('a'))).rejects.toThrow(ConfigError);
    await expect(sup.startChild(fakes.spec('a'))).rejects.toThrow(/duplicate child id 'a'/);
  });

  it('terminates and removes a child without touching its siblings, even under one-for-all', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'processor', flags: { strategy: 'one-for-all' }, children: ['a', 'b', 'c'].map((id) => fakes.spec(id)) });
    const events = record(sup);
    await sup.start();
    fakes.clearLog();

    expect(await sup.terminateChild('b')).toBe(true);
    await clock.advance(10_000);

    expect(fakes.log).toEqual(['stop b (terminate)']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'c']);
    expect(ofType(events, 'supervisor.child-stopped')).toMatchObject([{ child: 'b', stopReason: 'terminate' }]);
    expect(await sup.terminateChild('b')).toBe(false);
  });

  it('cancels the pending restart of a child terminated while it waits out its backoff', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'processor', children: [fakes.spec('partition:clicks-0')] });
    await sup.start();
    fakes.crash('partition:clicks-0');
    await clock.settle();

    expect(await sup.terminateChild('partition:clicks-0')).toBe(true);
    await clock.advance(10_000);

    expect(fakes.startsOf('partition:clicks-0')).toBe(1);
    expect(sup.whichChildren()).toEqual([]);
  });

  it('keeps the children added with startChild across a restart of the supervisor by its parent', async () => {
    const { clock, fakes, supervisor } = harness();
    const processor = supervisor({ name: 'processor', flags: { intensity: 0 } });
    const root = supervisor({ name: 'node', children: [processor.asChild()] });
    await root.start();
    await processor.startChild(fakes.spec('partition:clicks-0'));
    await processor.startChild(fakes.spec('partition:clicks-1'));

    fakes.crash('partition:clicks-1'); // escalates: the processor stops, the root restarts it
    await clock.advance(100);

    expect(fakes.startsOf('partition:clicks-0')).toBe(2);
    expect(fakes.startsOf('partition:clicks-1')).toBe(2);
    expect(processor.whichChildren().every((c) => c.state === 'running')).toBe(true);
  });

  it('adds a child to a supervisor that is not running and starts it with the supervisor', async () => {
    const { fakes, supervisor } = harness();
    const sup = supervisor({ name: 'processor' });
    await sup.startChild(fakes.spec('a'));
    expect(sup.whichChildren()).toMatchObject([{ id: 'a', state: 'pending' }]);
    await sup.start();
    expect(fakes.isRunning('a')).toBe(true);
  });
});
