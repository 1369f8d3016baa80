import { describe, expect, it } from 'vitest';
import { harness, ofType, record } from './support.js';

describe('restart types', () => {
  it('restarts a permanent child whatever the exit reason, a normal exit included', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', children: [fakes.spec('p', { restart: 'permanent' })] });
    await sup.start();

    fakes.exit('p', 'normal');
    await clock.advance(100);
    fakes.exit('p', 'shutdown');
    await clock.advance(200);
    fakes.crash('p');
    await clock.advance(400);

    expect(fakes.startsOf('p')).toBe(4);
    expect(sup.whichChildren()).toEqual([{ id: 'p', type: 'worker', restart: 'permanent', state: 'running' }]);
  });

  it('restarts a transient child after a failure but leaves it stopped after a normal or shutdown exit', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', children: [fakes.spec('t', { restart: 'transient' }), fakes.spec('u', { restart: 'transient' })] });
    const events = record(sup);
    await sup.start();

    fakes.crash('t');
    await clock.advance(100);
    expect(fakes.startsOf('t')).toBe(2);

    fakes.exit('t', 'normal');
    fakes.exit('u', 'shutdown');
    await clock.advance(10_000);
    expect(fakes.startsOf('t')).toBe(2);
    expect(fakes.startsOf('u')).toBe(1);
    expect(sup.whichChildren().map((c) => c.state)).toEqual(['stopped', 'stopped']);
    expect(ofType(events, 'supervisor.child-stopped')).toMatchObject([
      { child: 't', exit: 'normal', stopReason: undefined, killed: false },
      { child: 'u', exit: 'shutdown', stopReason: undefined, killed: false },
    ]);
  });

  it('never restarts a temporary child, removes it when it ends, and does not count its failures towards the intensity', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { intensity: 0 }, children: [fakes.spec('tmp', { restart: 'temporary' }), fakes.spec('p')] });
    const events = record(sup);
    await sup.start();

    const error = fakes.crash('tmp');
    await clock.advance(10_000);

    expect(fakes.startsOf('tmp')).toBe(1);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['p']);
    expect(sup.state).toBe('running');
    expect(ofType(events, 'supervisor.child-failed')).toMatchObject([{ child: 'tmp', error }]);
  });

  it('does not restart a temporary sibling stopped by a one-for-all restart, as OTP', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({
      name: 'sup',
      flags: { strategy: 'one-for-all' },
      children: [fakes.spec('a'), fakes.spec('tmp', { restart: 'temporary' }), fakes.spec('c')],
    });
    await sup.start();
    fakes.clearLog();

    fakes.crash('a');
    await clock.advance(100);

    expect(fakes.log).toEqual(['stop c (restart)', 'stop tmp (restart)', 'start a', 'start c']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('restarts with its group a transient sibling that had exited normally, as OTP', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({
      name: 'sup',
      flags: { strategy: 'one-for-all' },
      children: [fakes.spec('a'), fakes.spec('t', { restart: 'transient' })],
    });
    await sup.start();
    fakes.exit('t', 'normal');
    await clock.settle();
    fakes.clearLog();

    fakes.crash('a');
    await clock.advance(100);

    expect(fakes.log).toEqual(['start a', 'start t']);
  });
});
