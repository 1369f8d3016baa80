/**
 * The time source and timers a supervisor uses for backoff, shutdown timeouts and restart
 * intensity. Injected so that tests run on a {@link SimulatedClock} with no real sleeps.
 *
 * @example
 * const clock: SupervisorClock = {
 *   now: () => Date.now(),
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
 * };
 * new Supervisor({ name: 'node', clock });
 */
export interface SupervisorClock {
  /** Milliseconds; only differences matter (epoch ms with {@link systemClock}). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link SupervisorClock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; a handle already fired or cleared is ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `Date.now()` and Node's timers. The default of every supervisor that is
 * given no clock and has no parent to inherit one from.
 *
 * @example
 * const root = new Supervisor({ name: 'node', clock: systemClock }); // same as leaving `clock` out
 */
export const systemClock: SupervisorClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as NodeJS.Timeout),
});
