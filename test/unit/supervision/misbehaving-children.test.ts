import { describe, expect, it } from 'vitest';
import type { ChildExit } from '../../../src/supervision/child-spec.js';
import { ChildFailedError } from '../../../src/supervision/errors.js';
import { harness, ofType, record } from './support.js';

describe('children that misbehave', () => {
  it('turns a start that rejects with a non-Error into a ChildFailedError that keeps the value as cause', async () => {
    const { supervisor } = harness();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the non-Error is the point
    const sup = supervisor({ name: 'sup', children: [{ id: 'a', start: () => Promise.reject('nope') }] });
    const events = record(sup);
    await sup.start();
    const [failed] = ofType(events, 'supervisor.child-failed');
    expect(failed.error).toBeInstanceOf(ChildFailedError);
    expect(failed.error.message).toBe("child 'sup/a' start() rejected with a non-Error: nope");
    expect(failed.error.cause).toBe('nope');
  });

  it('counts a start that resolves to something other than a handle as a failed start', async () => {
    const { supervisor } = harness();
    const sup = supervisor({ name: 'sup', children: [{ id: 'a', start: async () => ({}) as never }] });
    const events = record(sup);
    await sup.start();
    expect(ofType(events, 'supervisor.child-failed')[0].error.message).toMatch(/did not resolve to a ChildHandle/);
  });

  it("treats a rejected 'done' and a 'failed' exit without an error as failures with an error", async () => {
    const { clock, supervisor } = harness();
    const ends: Array<(outcome: { exit?: ChildExit; rejection?: unknown }) => void> = [];
    const start = async () => {
      let resolve!: (exit: ChildExit) => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<ChildExit>((res, rej) => ((resolve = res), (reject = rej)));
      ends.push(({ exit, rejection }) => (exit ? resolve(exit) : reject(rejection)));
      return { stop: async () => resolve({ reason: 'shutdown' }), done };
    };
    const sup = supervisor({ name: 'sup', children: [{ id: 'a', start }] });
    const events = record(sup);
    await sup.start();

    ends[0]({ rejection: new Error('done rejected') });
    await clock.advance(100);
    ends[1]({ exit: { reason: 'failed' } });
    await clock.settle();

    const errors = ofType(events, 'supervisor.child-failed').map((e) => e.error);
    expect(errors.map((e) => e.message)).toEqual(['done rejected', "child 'sup/a' exited 'failed' without an error"]);
  });

  it('reports a child whose stop() rejects in the stopped event, and still waits for it to end', async () => {
    const { supervisor } = harness();
    const sup = supervisor({
      name: 'sup',
      children: [
        {
          id: 'a',
          start: async () => {
            let resolve!: (exit: ChildExit) => void;
            const done = new Promise<ChildExit>((r) => (resolve = r));
            return {
              done,
              stop: async () => {
                resolve({ reason: 'shutdown' });
                throw new Error('flush failed');
              },
            };
          },
        },
      ],
    });
    const events = record(sup);
    await sup.start();
    await sup.stop();
    expect(ofType(events, 'supervisor.child-stopped')).toMatchObject([{ child: 'a', exit: 'shutdown', killed: false, error: { message: 'flush failed' } }]);
    expect(sup.snapshot().children[0].lastError).toMatchObject({ message: 'flush failed' });
  });

  it('under one-for-all restarts once when two children fail at the same moment, reporting the second failure on its stop', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { strategy: 'one-for-all' }, children: [fakes.spec('a'), fakes.spec('b')] });
    const events = record(sup);
    await sup.start();
    fakes.clearLog();

    fakes.crash('a');
    const second = fakes.crash('b');
    await clock.advance(100);

    expect(fakes.log).toEqual(['stop b (restart)', 'start a', 'start b']);
    expect(ofType(events, 'supervisor.child-restarting')).toHaveLength(1);
    expect(ofType(events, 'supervisor.child-stopped')).toMatchObject([{ child: 'b', stopReason: 'restart', exit: 'failed', error: second }]);
  });
});
