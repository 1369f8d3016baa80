import type { Logger } from 'pino';
import type { ChildContext, ChildExit, ChildHandle, ChildSpec, StopReason } from './child-spec.js';
import type { SupervisorClock } from './clock.js';
import { ChildFailedError } from './errors.js';
import type { SupervisorEvent } from './supervisor-event.js';
import type { ChildSnapshot, ChildState, ErrorSummary } from './supervisor-snapshot.js';

/** A child as its supervisor tracks it. */
export interface Child {
  readonly spec: ChildSpec;
  state: ChildState;
  handle: ChildHandle | undefined;
  /** Increases on every start: an exit of an older incarnation is stale. */
  incarnation: number;
  restarts: number;
  /** Consecutive restarts since the child last ran stably: the backoff attempt. */
  attempt: number;
  startedAt: number | undefined;
  lastError: ErrorSummary | undefined;
  /** The restart it waits for, while `restarting`. */
  pass: RestartPass | undefined;
}

/** Children restarted together once a backoff has elapsed. */
export interface RestartPass {
  readonly ids: Set<string>;
  timer: unknown;
}

/**
 * A supervisor as its children's start and stop see it. Its path, clock and random source are
 * set anew each time it starts (under a parent it takes the parent's), so they are read at each use.
 */
export interface ChildEnv {
  /** The supervisor's path. */
  path: string;
  clock: SupervisorClock;
  random: () => number;
  readonly log: () => Logger;
  /** Publishes a lifecycle event (on the supervisor's `events`, and up the tree). */
  readonly emit: (event: SupervisorEvent) => void;
}

export function newChild(spec: ChildSpec): Child {
  return { spec, state: 'pending', handle: undefined, incarnation: 0, restarts: 0, attempt: 0, startedAt: undefined, lastError: undefined, pass: undefined };
}

/** Where `id` sits in the tree: `<supervisor path>/<id>`. */
export function childPath(env: ChildEnv, id: string): string {
  return `${env.path}/${id}`;
}

/**
 * Starts one child: calls its spec's `start` and checks the handle. Resolves with the failed
 * exit when `start` rejected (or gave no handle), else `undefined` once the child runs (event
 * and log line out); `onExit` is then called with its exit, normalized, when it ends, whoever ends it.
 */
export async function launchChild(child: Child, env: ChildEnv, onExit: (incarnation: number, exit: ChildExit) => void): Promise<ChildExit | undefined> {
  const { spec } = child;
  child.state = 'starting';
  const incarnation = ++child.incarnation;
  const ctx: ChildContext = {
    id: spec.id,
    path: childPath(env, spec.id),
    restarts: child.restarts,
    clock: env.clock,
    logger: env.log(),
    random: env.random,
    publish: (event) => env.emit(event),
  };
  let handle: ChildHandle;
  try {
    handle = await Promise.resolve().then(() => spec.start(ctx));
    if (typeof handle?.stop !== 'function' || typeof handle.done?.then !== 'function') {
      throw new ChildFailedError(ctx.path, 'start() did not resolve to a ChildHandle { stop, done }');
    }
  } catch (err) {
    return { reason: 'failed', error: toError(err, child, env, 'start() rejected') };
  }
  child.handle = handle;
  child.state = 'running';
  child.startedAt = env.clock.now();
  env.emit({ type: 'supervisor.child-started', supervisor: env.path, child: spec.id, path: ctx.path, at: child.startedAt, restarts: child.restarts });
  env.log().info({ supervisor: env.path, child: spec.id, restarts: child.restarts }, 'child started');
  void handle.done
    .then(
      (exit) => normalizeExit(exit, child, env),
      (err: unknown): ChildExit => ({ reason: 'failed', error: toError(err, child, env, "'done' rejected") }),
    )
    .then((exit) => onExit(incarnation, exit));
  return undefined;
}

/** Asks a running child to stop and waits for it to end, at most its shutdown timeout. */
export async function stopChild(child: Child, reason: StopReason, env: ChildEnv): Promise<void> {
  const { spec } = child;
  const handle = child.handle!;
  child.state = 'stopping';
  let stopError: Error | undefined;
  let reported = false;
  void Promise.resolve()
    .then(() => handle.stop(reason))
    .catch((err: unknown) => {
      const error = toError(err, child, env, 'stop() rejected');
      if (!reported) stopError = error;
      else env.log().error({ err: error, supervisor: env.path, child: spec.id, reason }, "child's stop() rejected after it was reported stopped");
    });
  const ended = handle.done.then(
    (exit) => normalizeExit(exit, child, env),
    (err: unknown): ChildExit => ({ reason: 'failed', error: toError(err, child, env, "'done' rejected") }),
  );
  let timer: unknown;
  const timedOut = new Promise<undefined>((resolve) => {
    if (Number.isFinite(spec.shutdownTimeoutMs)) timer = env.clock.setTimeout(() => resolve(undefined), spec.shutdownTimeoutMs);
  });
  const exit = await Promise.race([ended, timedOut]);
  if (timer !== undefined) env.clock.clearTimeout(timer);
  await Promise.resolve(); // a stop() that rejected right away is reported with the exit
  reported = true;
  child.handle = undefined;
  child.state = 'stopped';
  const now = env.clock.now();
  const killed = exit === undefined;
  const error = stopError ?? (exit?.reason === 'failed' ? exit.error : undefined);
  if (error) child.lastError = summarize(error, now);
  const path = childPath(env, spec.id);
  env.emit({
    type: 'supervisor.child-stopped',
    supervisor: env.path,
    child: spec.id,
    path,
    at: now,
    exit: exit?.reason,
    stopReason: reason,
    killed,
    ...(error ? { error } : {}),
  });
  if (killed) {
    env.log().warn({ supervisor: env.path, child: spec.id, reason, shutdownTimeoutMs: spec.shutdownTimeoutMs }, 'child did not stop within its shutdown timeout; considered killed');
  } else if (error) {
    env.log().error({ err: error, supervisor: env.path, child: spec.id, reason }, 'child failed while stopping');
  } else {
    env.log().info({ supervisor: env.path, child: spec.id, reason }, 'child stopped');
  }
}

/** Whether a running child has run for `resetAfterMs` or more: its next restart is a first attempt again. */
export function ranStably(child: Child, now: number, resetAfterMs: number): boolean {
  return child.state === 'running' && child.startedAt !== undefined && now - child.startedAt >= resetAfterMs;
}

/** The child as a supervisor's snapshot shows it (with the snapshot of its own supervisor, if it is one). */
export function childSnapshot(child: Child, env: ChildEnv, now: number, resetAfterMs: number): ChildSnapshot {
  const { spec } = child;
  const nested = spec.inspect?.();
  return {
    id: spec.id,
    type: spec.type,
    restart: spec.restart,
    state: child.state,
    path: childPath(env, spec.id),
    restarts: child.restarts,
    backoffAttempt: ranStably(child, now, resetAfterMs) ? 0 : child.attempt,
    startedAt: child.startedAt,
    lastError: child.lastError,
    ...(nested ? { supervisor: nested } : {}),
  };
}

export function summarize(error: Error, at: number): ErrorSummary {
  return { name: error.name, message: error.message, at };
}

/** An exit as the supervisor handles it: a known reason, and an `Error` with every failure. */
function normalizeExit(exit: ChildExit, child: Child, env: ChildEnv): ChildExit {
  const reason = exit?.reason;
  if (reason === 'normal' || reason === 'shutdown') return { reason };
  if (reason === 'failed') return { reason, error: toError(exit.error ?? new ChildFailedError(childPath(env, child.spec.id), "exited 'failed' without an error"), child, env, 'failed') };
  return { reason: 'failed', error: new ChildFailedError(childPath(env, child.spec.id), `exited with an unknown reason ${JSON.stringify(reason)}`) };
}

function toError(value: unknown, child: Child, env: ChildEnv, what: string): Error {
  return value instanceof Error ? value : new ChildFailedError(childPath(env, child.spec.id), `${what} with a non-Error: ${String(value)}`, { cause: value });
}
