import type { ChildExit, StopReason } from './child-exit.js';
import type { SupervisorEscalatedError } from './errors.js';

/**
 * The namespaced types of {@link SupervisorEvent}, as constants.
 *
 * @example
 * root.events.pipe(filter((e) => e.type === SupervisorEventType.escalated)).subscribe(page);
 */
export const SupervisorEventType = {
  childStarted: 'supervisor.child-started',
  childFailed: 'supervisor.child-failed',
  childRestarting: 'supervisor.child-restarting',
  childStopped: 'supervisor.child-stopped',
  escalated: 'supervisor.escalated',
  gaveUp: 'supervisor.gave-up',
} as const;

/** Fields every supervisor event carries. */
interface SupervisorEventBase {
  /** The path of the supervisor that emitted it, e.g. `'node/processor:clicks'`. */
  readonly supervisor: string;
  /** `supervisor.now()` when it happened (epoch ms on the system clock). */
  readonly at: number;
}

/** Fields of the events about one child. */
interface ChildEventBase extends SupervisorEventBase {
  /** The child's id, e.g. `'partition:clicks-0'`. */
  readonly child: string;
  /** The child's path, e.g. `'node/processor:clicks/partition:clicks-0'`. */
  readonly path: string;
}

/**
 * A lifecycle event of a supervisor or one of its children. Every supervisor's `events` carries
 * its own and those of the supervisors below it, so the root's show the whole tree.
 *
 * - `supervisor.child-started`: a child's `start` resolved; `restarts` is 0 on its first start.
 * - `supervisor.child-failed`: a child exited `'failed'` (`phase: 'run'`) or its `start` rejected
 *   (`phase: 'start'`), with the `error`.
 * - `supervisor.child-restarting`: a restart is scheduled: `delayMs` of backoff, `attempt` (1 for
 *   the first restart since the child last ran stably), `children` restarted together (the strategy).
 * - `supervisor.child-stopped`: a child ended without failing (`'normal'`/`'shutdown'` exit), or the
 *   supervisor stopped it (`stopReason`); `killed` when it did not end within its shutdown
 *   timeout and was abandoned; `error` if it failed while stopping.
 * - `supervisor.escalated`: more restarts than the intensity allows; every child was stopped and
 *   the supervisor failed to its parent with `error` (its `cause` is the child's error).
 * - `supervisor.gave-up`: escalation reached the root, which has no one to tell: it applies its
 *   `onEscalation` policy, `'exit'` (process exits with code 1) or `'stay-down'` (unhealthy).
 *
 * @example
 * root.events.subscribe((e) => {
 *   if (e.type === 'supervisor.child-failed') log.error({ err: e.error, path: e.path }, 'child failed');
 * });
 */
export type SupervisorEvent =
  | (ChildEventBase & { readonly type: 'supervisor.child-started'; readonly restarts: number })
  | (ChildEventBase & { readonly type: 'supervisor.child-failed'; readonly error: Error; readonly phase: 'start' | 'run' })
  | (ChildEventBase & {
      readonly type: 'supervisor.child-restarting';
      readonly delayMs: number;
      readonly attempt: number;
      readonly children: readonly string[];
    })
  | (ChildEventBase & {
      readonly type: 'supervisor.child-stopped';
      /** How it ended; `undefined` when it was killed (did not end within its shutdown timeout). */
      readonly exit: ChildExit['reason'] | undefined;
      /** Set when the supervisor stopped it, and why. */
      readonly stopReason: StopReason | undefined;
      readonly killed: boolean;
      readonly error?: Error;
    })
  | (SupervisorEventBase & { readonly type: 'supervisor.escalated'; readonly child: string; readonly error: SupervisorEscalatedError })
  | (SupervisorEventBase & { readonly type: 'supervisor.gave-up'; readonly policy: EscalationPolicy; readonly error: SupervisorEscalatedError });

/**
 * What the root supervisor does when escalation reaches it: `'exit'` calls `exit(1)` so an
 * orchestrator restarts the process; `'stay-down'` keeps the process up with every child
 * stopped and `health()` reporting unhealthy, with the reason.
 *
 * @example
 * new Supervisor({ name: 'node', onEscalation: 'stay-down' }); // a status page explains why
 */
export type EscalationPolicy = 'exit' | 'stay-down';
