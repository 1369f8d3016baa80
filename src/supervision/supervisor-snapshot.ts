import type { ChildType, RestartType } from './restart-type.js';
import type { Strategy } from './supervisor-flags.js';

/**
 * Where a supervisor is in its life:
 * `idle → starting → running → stopping → stopped`, or `escalated` when it exceeded its restart
 * intensity (its children are stopped; a root with `onEscalation: 'stay-down'` stays there).
 * `start()` again from `stopped` or `escalated` starts its children afresh.
 *
 * @example
 * if (sup.snapshot().state === 'escalated') alert();
 */
export type SupervisorState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'escalated';

/**
 * Where a child is in its life, as its supervisor sees it:
 * - `pending`: not started yet (its supervisor is not running, or it is next in a start pass);
 * - `starting`: its `start` is in flight;
 * - `running`;
 * - `stopping`: asked to stop, waiting for it to end (at most its shutdown timeout);
 * - `restarting`: waiting out its backoff before being started again;
 * - `stopped`: ended and not restarted (a transient child that exited normally, or its supervisor stopped).
 *
 * @example
 * sup.whichChildren().filter((c) => c.state === 'restarting').map((c) => c.id);
 */
export type ChildState = 'pending' | 'starting' | 'running' | 'stopping' | 'restarting' | 'stopped';

/**
 * An error summarised for a status page (JSON-safe).
 *
 * @example
 * const last: ErrorSummary = { name: 'KafkaError', message: 'broker down', at: 1_700_000_000_000 };
 */
export interface ErrorSummary {
  readonly name: string;
  readonly message: string;
  /** When it happened, on the supervisor's clock. */
  readonly at: number;
}

/**
 * One child, as {@link Supervisor.whichChildren} lists it (OTP's `which_children`).
 *
 * @example
 * const [first]: ChildInfo[] = sup.whichChildren(); // { id: 'kafka', type: 'worker', restart: 'permanent', state: 'running' }
 */
export interface ChildInfo {
  readonly id: string;
  readonly type: ChildType;
  readonly restart: RestartType;
  readonly state: ChildState;
}

/**
 * One child in a {@link SupervisorSnapshot}.
 *
 * @example
 * const child: ChildSnapshot = sup.snapshot().children[0];
 * `${child.path}: ${child.state}, restarted ${child.restarts} times, last error ${child.lastError?.message}`;
 */
export interface ChildSnapshot extends ChildInfo {
  /** e.g. `'node/processor:clicks/partition:clicks-0'`. */
  readonly path: string;
  /** Times the supervisor restarted it (never reset). */
  readonly restarts: number;
  /** Restarts since it last ran stably for `resetAfterMs`: its next backoff is `backoffDelay(backoffAttempt)`. */
  readonly backoffAttempt: number;
  /** When it was last started, on the supervisor's clock. */
  readonly startedAt: number | undefined;
  readonly lastError: ErrorSummary | undefined;
  /** The snapshot of a child that is itself a supervisor. */
  readonly supervisor?: SupervisorSnapshot;
}

/**
 * Whether a supervisor is fit: `healthy` while `starting` or `running`; otherwise not, with the
 * `reason` (the escalation error's message after an escalation).
 *
 * @example
 * app.get('/health', (_req, res) => { const h = root.health(); res.status(h.healthy ? 200 : 503).json(h); });
 */
export interface SupervisorHealth {
  readonly healthy: boolean;
  readonly state: SupervisorState;
  readonly reason?: string;
}

/**
 * The state of a supervisor and, recursively, of the supervisors below it: who supervises
 * whom, each child's state, restart counts and last error. JSON-safe, for status pages.
 *
 * @example
 * JSON.stringify(root.snapshot(), null, 2);
 * // { "name": "node", "path": "node", "state": "running", "children": [{ "id": "processor:clicks", "supervisor": { ... } }] }
 */
export interface SupervisorSnapshot {
  readonly name: string;
  readonly path: string;
  readonly state: SupervisorState;
  readonly strategy: Strategy;
  /** Restarts within the last `periodMs`, against the intensity. */
  readonly recentRestarts: number;
  readonly intensity: number;
  readonly periodMs: number;
  readonly health: SupervisorHealth;
  readonly children: readonly ChildSnapshot[];
}

/** A supervisor's health in `state` (see {@link SupervisorHealth}); `escalation` is the error it escalated with. */
export function supervisorHealth(state: SupervisorState, path: string, escalation: Error | undefined): SupervisorHealth {
  switch (state) {
    case 'starting':
    case 'running':
      return { healthy: true, state };
    case 'idle':
      return { healthy: false, state, reason: `supervisor '${path}' has not been started` };
    case 'stopping':
    case 'stopped':
      return { healthy: false, state, reason: `supervisor '${path}' is ${state}` };
    case 'escalated':
      return { healthy: false, state, reason: escalation?.message ?? `supervisor '${path}' escalated` };
  }
}
