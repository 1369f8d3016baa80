import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import type { ChildExit, StopReason } from './child-exit.js';
import type { SupervisorClock } from './clock.js';
import type { ChildType, RestartType } from './restart-type.js';
import type { SupervisorEvent } from './supervisor-event.js';
import type { SupervisorSnapshot } from './supervisor-snapshot.js';

export type { ChildExit, StopReason } from './child-exit.js';
export type { ChildType, RestartType } from './restart-type.js';

/**
 * A running child, as its `start` returns it: how to stop it and how to learn that it ended.
 *
 * `done` settles exactly once, when the child has ended, whoever decided it: resolved with its
 * {@link ChildExit}; a rejection counts as `{ reason: 'failed', error }`. After `stop(reason)` the
 * child should end (resolve `done`) within its spec's `shutdownTimeoutMs`; after that the
 * supervisor considers it killed and goes on.
 *
 * @example
 * start: async () => {
 *   const actor = createActor(machine).start();
 *   const done = new Promise<ChildExit>((resolve) => actor.subscribe({
 *     complete: () => resolve({ reason: 'shutdown' }),
 *     error: (err) => resolve({ reason: 'failed', error: err as Error }),
 *   }));
 *   return { stop: async () => actor.send({ type: 'partition.stop' }), done };
 * }
 */
export interface ChildHandle {
  /** Asks the child to stop; it ends by settling `done`. */
  stop(reason: StopReason): Promise<void>;
  readonly done: Promise<ChildExit>;
}

/**
 * What a child's `start` is given.
 *
 * @example
 * start: async (ctx: ChildContext) => {
 *   ctx.logger.info({ path: ctx.path, restarts: ctx.restarts }, 'starting');
 *   return startPartitionActor({ replay: ctx.restarts > 0 });
 * }
 */
export interface ChildContext {
  /** The child's id within its supervisor, e.g. `'partition:clicks-0'`. */
  readonly id: string;
  /** Where the child sits in the tree, e.g. `'node/processor:clicks/partition:clicks-0'`. */
  readonly path: string;
  /** How many times the supervisor has restarted this child before (0 on the first start). */
  readonly restarts: number;
  /** The supervisor's clock, for a nested supervisor to share. */
  readonly clock: SupervisorClock;
  /** The tree's logger, not bound to the child: bind what you log with, e.g. `ctx.logger.child({ path: ctx.path })`. */
  readonly logger: Logger;
  /** Where a nested supervisor forwards its events, so the root's `events` show the whole tree. */
  readonly publish: (event: SupervisorEvent) => void;
  /** The supervisor's random source for backoff jitter, for a nested supervisor to share. */
  readonly random: () => number;
}

/**
 * A child specification as written: only `id` and `start` are required. Validated and defaulted
 * by {@link childSpec}; a {@link Supervisor} validates every spec it is given the same way.
 *
 * @example
 * const spec: ChildSpecOptions = { id: 'kafka', start: connectKafka, shutdownTimeoutMs: 10_000 };
 */
export interface ChildSpecOptions {
  /** Unique within its supervisor; part of the path, so no `/`. */
  readonly id: string;
  /** Starts the child; rejecting counts as a failure of the child (restarted like a crash). */
  readonly start: (ctx: ChildContext) => Promise<ChildHandle>;
  /** Default `'permanent'`. */
  readonly restart?: RestartType;
  /** How long a stop may take before the child is considered killed. Default 5,000 ms; `Infinity` waits forever. */
  readonly shutdownTimeoutMs?: number;
  /** Default `'worker'`. */
  readonly type?: ChildType;
  /** The snapshot of a child that is a supervisor, so the parent's snapshot shows the whole tree. Set by `Supervisor.asChild()`. */
  readonly inspect?: () => SupervisorSnapshot;
}

/**
 * A validated child specification with every default applied. Immutable.
 *
 * @example
 * const spec: ChildSpec = childSpec({ id: 'partition:clicks-0', start });
 * spec.restart; // 'permanent'
 */
export interface ChildSpec extends ChildSpecOptions {
  readonly restart: RestartType;
  readonly shutdownTimeoutMs: number;
  readonly type: ChildType;
}

/**
 * Default of {@link ChildSpecOptions.shutdownTimeoutMs}: 5,000 ms (OTP's default for workers).
 *
 * @example
 * childSpec({ id: 'a', start }).shutdownTimeoutMs === DEFAULT_SHUTDOWN_TIMEOUT_MS; // true
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

const RESTART_TYPES: readonly RestartType[] = ['permanent', 'transient', 'temporary'];
const CHILD_TYPES: readonly ChildType[] = ['worker', 'supervisor'];

/**
 * Validates a child specification and applies its defaults: `restart: 'permanent'`,
 * `shutdownTimeoutMs: 5_000`, `type: 'worker'`. Throws a {@link ConfigError} naming the setting
 * (`child.id`, `child.start`, `child.restart`, `child.shutdownTimeoutMs`, `child.type`) and the child.
 *
 * @example
 * const spec = childSpec({ id: 'partition:clicks-0', restart: 'transient', start: async (ctx) => startActor(ctx) });
 * childSpec({ id: 'x', start, restart: 'sometimes' as RestartType }); // throws ConfigError: invalid configuration 'child.restart'
 */
export function childSpec(options: ChildSpecOptions): ChildSpec {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('child', `expects a child specification object, got ${options === null ? 'null' : typeof options}`);
  }
  const { id, start, restart = 'permanent', shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS, type = 'worker', inspect } = options;
  if (typeof id !== 'string' || id.length === 0 || id.includes('/')) {
    throw new ConfigError('child.id', `must be a non-empty string without '/', got ${JSON.stringify(id)}`);
  }
  const named = `child '${id}'`;
  if (typeof start !== 'function') throw new ConfigError('child.start', `${named}: must be a function returning a ChildHandle, got ${typeof start}`);
  if (!RESTART_TYPES.includes(restart)) {
    throw new ConfigError('child.restart', `${named}: must be one of ${RESTART_TYPES.join(', ')}, got ${JSON.stringify(restart)}`);
  }
  if (typeof shutdownTimeoutMs !== 'number' || !(shutdownTimeoutMs >= 0) || (Number.isFinite(shutdownTimeoutMs) && !Number.isSafeInteger(shutdownTimeoutMs))) {
    throw new ConfigError('child.shutdownTimeoutMs', `${named}: must be a non-negative integer number of milliseconds or Infinity, got ${String(shutdownTimeoutMs)}`);
  }
  if (!CHILD_TYPES.includes(type)) throw new ConfigError('child.type', `${named}: must be one of ${CHILD_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  if (inspect !== undefined && typeof inspect !== 'function') throw new ConfigError('child.inspect', `${named}: must be a function, got ${typeof inspect}`);
  return Object.freeze({ id, start, restart, shutdownTimeoutMs, type, ...(inspect ? { inspect } : {}) });
}
