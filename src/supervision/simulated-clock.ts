import type { SupervisorClock } from './clock.js';

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A {@link SupervisorClock} that only moves when told to, for tests of supervisors and actors
 * (XState's `SimulatedClock`, Pekko's stubbed scheduler). `advance(ms)` fires the due timers in
 * time order (ties in the order they were set) and lets promise callbacks run after each one,
 * so a whole restart (stop, backoff, start) plays out with no real sleep.
 *
 * Promise callbacks are let run by waiting one `setImmediate` turn, which drains every pending
 * microtask: enough for code that only awaits promises and this clock's timers. Real I/O or
 * real timers inside the code under test are not waited for.
 *
 * @example
 * const clock = new SimulatedClock();
 * const sup = new Supervisor({ name: 'node', clock, children: [spec] });
 * await sup.start();
 * crash(); // the child fails
 * await clock.advance(100); // the 100 ms backoff elapses and the child is started again
 */
export class SimulatedClock implements SupervisorClock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  /** @param start the initial `now()`, default 0. */
  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    const at = this.current + Math.max(0, Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER);
    this.timers.push({ id, at, fn });
    this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** When the next timer fires, `undefined` when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /** Lets pending promise callbacks run without moving time. */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order; settles after each. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await this.settle();
    for (let timer = this.timers[0]; timer !== undefined && timer.at <= target; timer = this.timers[0]) {
      this.timers.shift();
      this.current = Math.max(this.current, timer.at);
      timer.fn();
      await this.settle();
    }
    this.current = Math.max(this.current, target);
    await this.settle();
  }

  /** Moves time to the next pending timer and fires it (and any due at the same time). */
  async next(): Promise<void> {
    const at = this.nextTimerAt;
    await (at === undefined ? this.settle() : this.advance(at - this.current));
  }
}
