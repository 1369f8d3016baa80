import { describe, expect, it } from 'vitest';
import { SupervisorEscalatedError } from '../../../src/supervision/errors.js';
import { harness, ofType, record, recordingLogger } from './support.js';

describe('restart intensity and escalation', () => {
  it('stops every child in reverse order and escalates when a child fails more often than the intensity allows', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({
      name: 'sup',
      flags: { intensity: 3, periodMs: 5_000 },
      onEscalation: 'stay-down',
      children: ['a', 'b', 'c'].map((id) => fakes.spec(id)),
    });
    const events = record(sup);
    await sup.start();

    for (const delay of [100, 200, 400]) {
      fakes.crash('b');
      await clock.advance(delay);
    }
    expect(sup.state).toBe('running');
    fakes.clearLog();
    const last = fakes.crash('b'); // the 4th within 5 s
    await clock.settle();

    expect(fakes.log).toEqual(['stop c (escalation)', 'stop a (escalation)']);
    expect(sup.state).toBe('escalated');
    expect(sup.whichChildren().map((c) => c.state)).toEqual(['stopped', 'stopped', 'stopped']);
    const [escalated] = ofType(events, 'supervisor.escalated');
    expect(escalated.child).toBe('b');
    expect(escalated.error).toBeInstanceOf(SupervisorEscalatedError);
    expect(escalated.error.cause).toBe(last);
    expect(escalated.error.message).toMatch(/4 restarts within 5000 ms, at most 3.*child 'b': b crashed/);
    await clock.advance(60_000);
    expect(fakes.startsOf('b')).toBe(4); // nothing restarts after an escalation
  });

  it('does not escalate when the failures are spread wider than the period', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { intensity: 1, periodMs: 1_000, backoff: { maxMs: 500 } }, children: [fakes.spec('a')] });
    await sup.start();
    for (let i = 0; i < 5; i++) {
      fakes.crash('a');
      await clock.advance(1_000);
    }
    expect(sup.state).toBe('running');
    expect(fakes.startsOf('a')).toBe(6);
  });

  it('escalates to the parent, which applies its own strategy to the failed supervisor', async () => {
    const { clock, fakes, supervisor } = harness();
    const processor = supervisor({ name: 'processor', flags: { intensity: 1 }, children: [fakes.spec('p0'), fakes.spec('p1')] });
    const root = supervisor({ name: 'node', flags: { strategy: 'one-for-all' }, children: [fakes.spec('kafka'), processor.asChild()] });
    const events = record(root);
    await root.start();
    fakes.clearLog();

    fakes.crash('p1');
    await clock.advance(100);
    fakes.crash('p1'); // second restart within 5 s, intensity 1
    await clock.settle();

    expect(processor.state).toBe('escalated');
    expect(fakes.log).toEqual(['start p1', 'stop p0 (escalation)', 'stop kafka (restart)']);
    const failed = ofType(events, 'supervisor.child-failed').at(-1)!;
    expect(failed).toMatchObject({ supervisor: 'node', child: 'processor', path: 'node/processor', phase: 'run' });
    expect(failed.error).toBeInstanceOf(SupervisorEscalatedError);

    await clock.advance(100); // the root's backoff: all restarted in order, the processor with its children
    expect(fakes.log.slice(3)).toEqual(['start kafka', 'start p0', 'start p1']);
    expect(root.state).toBe('running');
    expect(processor.state).toBe('running');
    expect(root.health().healthy).toBe(true);
    expect(root.snapshot().children[1]).toMatchObject({ id: 'processor', restarts: 1, lastError: { name: 'SupervisorEscalatedError' } });
  });

  it("at the root with onEscalation 'exit' calls exit(1) once", async () => {
    const { clock, fakes, exits, supervisor } = harness();
    const root = supervisor({ name: 'node', flags: { intensity: 0 }, onEscalation: 'exit', children: [fakes.spec('a')] });
    const events = record(root);
    await root.start();

    fakes.crash('a');
    await clock.advance(10_000);

    expect(exits).toEqual([1]);
    expect(ofType(events, 'supervisor.gave-up')).toMatchObject([{ supervisor: 'node', policy: 'exit' }]);
  });

  it("at the root with onEscalation 'stay-down' keeps running, reports unhealthy with the reason, and does not exit", async () => {
    const { clock, fakes, exits, supervisor } = harness();
    const root = supervisor({ name: 'node', flags: { intensity: 0 }, onEscalation: 'stay-down', children: [fakes.spec('a')] });
    expect(root.health()).toMatchObject({ healthy: false, state: 'idle' });
    await root.start();
    expect(root.health()).toEqual({ healthy: true, state: 'running' });

    fakes.crash('a', new Error('sink unreachable'));
    await clock.settle();

    expect(exits).toEqual([]);
    expect(root.health()).toEqual({
      healthy: false,
      state: 'escalated',
      reason: "supervisor 'node' exceeded its restart intensity (1 restarts within 5000 ms, at most 0): child 'a': sink unreachable",
    });
    expect(root.snapshot().health.healthy).toBe(false);
  });

  it('can be started again after staying down, with a fresh restart intensity', async () => {
    const { clock, fakes, supervisor } = harness();
    const root = supervisor({ name: 'node', flags: { intensity: 0 }, onEscalation: 'stay-down', children: [fakes.spec('a')] });
    await root.start();
    fakes.crash('a');
    await clock.settle();
    expect(root.state).toBe('escalated');

    await root.start();
    expect(root.health().healthy).toBe(true);
    expect(fakes.isRunning('a')).toBe(true);
  });

  it('rejects start() with the escalation when the children fail to start more often than the intensity allows', async () => {
    const { fakes, exits, supervisor } = harness();
    const root = supervisor({ name: 'node', flags: { intensity: 0 }, children: [fakes.spec('a'), fakes.spec('b', { failStart: () => true })] });

    await expect(root.start()).rejects.toBeInstanceOf(SupervisorEscalatedError);
    expect(fakes.log).toEqual(['start a', 'start-failed b', 'stop a (escalation)']);
    expect(exits).toEqual([1]);
  });

  it("puts a failed child's error in the event, the log and the escalation cause", async () => {
    const { clock, fakes, supervisor } = harness();
    const { logger, lines } = recordingLogger();
    const root = supervisor({ name: 'node', logger, flags: { intensity: 0 }, onEscalation: 'stay-down', children: [fakes.spec('a')] });
    const events = record(root);
    await root.start();

    const error = fakes.crash('a', new Error('boom at offset 42'));
    await clock.settle();

    expect(ofType(events, 'supervisor.child-failed')[0].error).toBe(error);
    expect(ofType(events, 'supervisor.escalated')[0].error.cause).toBe(error);
    const failedLine = lines.find((l) => l.msg === 'child failed');
    expect(failedLine).toMatchObject({ level: 50, supervisor: 'node', child: 'a', err: { message: 'boom at offset 42' } });
    expect(lines.find((l) => l.level === 60)).toMatchObject({ err: { type: 'SupervisorEscalatedError' } });
  });
});
