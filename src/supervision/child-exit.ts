/**
 * Why the supervisor stops a child, passed to {@link ChildHandle.stop}:
 * - `'shutdown'`: the supervisor itself stops;
 * - `'restart'`: a sibling failed and the strategy (one-for-all, rest-for-one) restarts this one too;
 * - `'terminate'`: {@link Supervisor.terminateChild} removes it (e.g. a Kafka partition was revoked);
 * - `'escalation'`: the supervisor exceeded its restart intensity and stops every child before failing.
 *
 * Every reason asks for the same orderly stop (a partition actor drains and commits); the reason is
 * there for logs and for children that want to tell them apart.
 *
 * @example
 * const handle: ChildHandle = { stop: async (reason: StopReason) => { log.info({ reason }, 'stopping'); await actor.drain(); }, done };
 */
export type StopReason = 'shutdown' | 'restart' | 'terminate' | 'escalation';

/**
 * How a child ended. `'normal'`: it finished its work; `'shutdown'`: it was asked to stop (or
 * stopped itself as if asked); `'failed'`: it crashed, with the `error`.
 *
 * @example
 * const exit: ChildExit = { reason: 'failed', error: new Error('sink unreachable') };
 */
export interface ChildExit {
  readonly reason: 'normal' | 'shutdown' | 'failed';
  /** Why it failed. Expected with `'failed'` (the supervisor makes one up if missing, it never drops the exit). */
  readonly error?: Error;
}
