import { Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import { ConfigError, isPermanent, TributaryError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { backoffDelay } from './backoff.js';
import {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  childSpec,
  type ChildContext,
  type ChildExit,
  type ChildHandle,
  type ChildSpec,
  type ChildSpecOptions,
  type RestartType,
  type StopReason,
} from './child-spec.js';
import { systemClock, type SupervisorClock } from './clock.js';
import { ChildFailedError, SupervisorEscalatedError } from './errors.js';
import { RestartIntensity } from './restart-intensity.js';
import { restartSet } from './restart-set.js';
import { supervisorFlags, type SupervisorFlags, type SupervisorFlagsOptions } from './supervisor-flags.js';
import type { EscalationPolicy, SupervisorEvent } from './supervisor-event.js';
import type {
  ChildInfo,
  ChildSnapshot,
  ChildState,
  ErrorSummary,
  SupervisorHealth,
  SupervisorSnapshot,
  SupervisorState,
} from './supervisor-snapshot.js';

/**
 * What a {@link Supervisor} is made of. Only `name` is required.
 *
 * @example
 * const options: SupervisorOptions = {
 *   name: 'node',
 *   flags: { strategy: 'one-for-one', intensity: 3, periodMs: 5_000 },
 *   children: [connectors.asChild(), processors.asChild()],
 *   onEscalation: 'exit',
 * };
 */
export interface SupervisorOptions {
  /** The root's path, and the default child id of `asChild()`: `'node'`, `'processor:clicks'`. No `/`. */
  readonly name: string;
  /** Strategy, intensity, period, backoff; see {@link supervisorFlags} for the defaults. */
  readonly flags?: SupervisorFlagsOptions;
  /** The children started by `start()`, in this order. Default none. */
  readonly children?: readonly ChildSpecOptions[];
  /** What a root does when escalation reaches it. Default `'exit'`. Ignored below the root. */
  readonly onEscalation?: EscalationPolicy;
  /** How a root with `onEscalation: 'exit'` exits. Default `process.exit`; called with 1. */
  readonly exit?: (code: number) => void;
  /** Default: the parent's clock under a parent, else {@link systemClock}. */
  readonly clock?: SupervisorClock;
  /** Default: the parent's logger under a parent, else `createLogger()` (pino, JSON on stdout). */
  readonly logger?: Logger;
  /** The random source of the backoff jitter. Default: the parent's, else `Math.random`. */
  readonly random?: () => number;
}

/**
 * How a supervisor appears as the child of another one; see {@link Supervisor.asChild}.
 *
 * @example
 * processors.asChild({ shutdownTimeoutMs: 60_000 });
 */
export interface AsChildOptions {
  /** Default: the supervisor's name. */
  readonly id?: string;
  /** Default `'permanent'`. */
  readonly restart?: RestartType;
  /** How long its whole shutdown (every child of its own, one after the other) may take. Default 5,000 ms. */
  readonly shutdownTimeoutMs?: number;
}

/** A child as the supervisor tracks it. */
interface Child {
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
interface RestartPass {
  readonly ids: Set<string>;
  timer: unknown;
}

/** A supervisor's link to the parent that started it. */
interface ParentLink {
  readonly ctx: ChildContext;
  readonly resolveDone: (exit: ChildExit) => void;
}

/**
 * An Erlang/OTP-style supervisor: starts its children in order, watches them, and restarts the
 * ones that end according to their restart type and its strategy, after a backoff; more
 * restarts than its intensity allows make it stop every child (in reverse order) and fail to its
 * parent, which applies its own strategy. A root, with no parent, applies `onEscalation`:
 * `'exit'` (process exit code 1, the default) or `'stay-down'` (unhealthy). Never a silent stall.
 *
 * Every change of the tree (start, crash, exit, restart, stop, startChild, terminateChild) is
 * handled one at a time, in order, like the messages of an OTP supervisor process; a backoff
 * does not hold the others up. Every lifecycle event is on `events`, logged, and in `snapshot()`.
 *
 * Where tributary differs from OTP: a child whose `start` rejects counts as a failure (restarted
 * with backoff, counted towards the intensity) rather than failing the supervisor; restarts wait
 * a backoff (OTP restarts at once); a supervisor restarted by its parent starts the children it
 * had when it stopped, those added by `startChild` included (so a processor supervisor brings
 * back the partition actors of the current assignment); `terminateChild` stops *and removes* a
 * child (OTP's `terminate_child` + `delete_child`); a child that outlives its shutdown timeout
 * is abandoned, not killed (JavaScript cannot kill a task).
 *
 * @example
 * const clicks = new Supervisor({ name: 'processor:clicks', flags: { strategy: 'one-for-one' } });
 * const root = new Supervisor({ name: 'node', children: [clicks.asChild({ shutdownTimeoutMs: 60_000 })] });
 * root.events.subscribe((e) => console.log(e.type, e.supervisor));
 * await root.start();
 * await clicks.startChild({ id: 'partition:clicks-0', start: (ctx) => startPartitionActor(ctx) });
 * await clicks.terminateChild('partition:clicks-0'); // partition revoked
 * await root.stop();
 */
export class Supervisor {
  readonly name: string;
  readonly flags: SupervisorFlags;
  private readonly options: SupervisorOptions;
  private readonly policy: EscalationPolicy;
  private readonly children: Child[] = [];
  private readonly subject = new Subject<SupervisorEvent>();
  private readonly intensity: RestartIntensity;
  private readonly passes = new Set<RestartPass>();
  private queue: Promise<unknown> = Promise.resolve();
  private current: SupervisorState = 'idle';
  /** Increases on every start and stop: timers and exits of an earlier life are stale. */
  private epoch = 0;
  private parent: ParentLink | undefined;
  private escalation: SupervisorEscalatedError | undefined;
  private ownPath: string;
  private clock: SupervisorClock;
  private random: () => number;
  private logger: Logger | undefined;

  constructor(options: SupervisorOptions) {
    if (typeof options !== 'object' || options === null) throw new ConfigError('supervisor', 'expects an options object');
    const { name, children = [], onEscalation = 'exit', exit, clock, logger, random } = options;
    if (typeof name !== 'string' || name.length === 0 || name.includes('/')) {
      throw new ConfigError('supervisor.name', `must be a non-empty string without '/', got ${JSON.stringify(name)}`);
    }
    if (onEscalation !== 'exit' && onEscalation !== 'stay-down') {
      throw new ConfigError('supervisor.onEscalation', `must be 'exit' or 'stay-down', got ${JSON.stringify(onEscalation)}`);
    }
    if (exit !== undefined && typeof exit !== 'function') throw new ConfigError('supervisor.exit', `must be a function, got ${typeof exit}`);
    if (random !== undefined && typeof random !== 'function') throw new ConfigError('supervisor.random', `must be a function, got ${typeof random}`);
    if (clock !== undefined && (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function')) {
      throw new ConfigError('supervisor.clock', 'must have now(), setTimeout(fn, ms) and clearTimeout(handle)');
    }
    if (!Array.isArray(children)) throw new ConfigError('supervisor.children', `must be an array of child specifications, got ${typeof children}`);
    this.name = name;
    this.options = options;
    this.policy = onEscalation;
    this.flags = supervisorFlags(options.flags);
    this.intensity = new RestartIntensity(this.flags.intensity, this.flags.periodMs);
    for (const spec of children.map(childSpec)) {
      if (this.find(spec.id)) throw new ConfigError('supervisor.children', `duplicate child id '${spec.id}' in supervisor '${name}'`);
      this.children.push(newChild(spec));
    }
    this.ownPath = name;
    this.clock = clock ?? systemClock;
    this.random = random ?? Math.random;
    this.logger = logger;
  }

  /**
   * Every lifecycle event of this supervisor and of the supervisors below it. Hot: subscribe
   * before `start()` to see the children start.
   *
   * @example
   * root.events.pipe(filter((e) => e.type === 'supervisor.child-failed')).subscribe((e) => alert(e.path));
   */
  get events(): Observable<SupervisorEvent> {
    return this.subject.asObservable();
  }

  /** Where it sits in the tree: its name at the root, e.g. `'node/processor:clicks'` below. */
  get path(): string {
    return this.ownPath;
  }

  get state(): SupervisorState {
    return this.current;
  }

  /**
   * Starts the children in order, as the root of a tree. A child whose `start` rejects is a
   * failed child (event, log, restart after backoff per the strategy, counted towards the
   * intensity); the others go on starting. Resolves once every child was started or scheduled
   * for restart; rejects with the {@link SupervisorEscalatedError} if that exceeded the intensity
   * (after applying `onEscalation`), or if the supervisor is already running.
   *
   * @example
   * await new Supervisor({ name: 'node', children: [kafkaSpec, natsSpec] }).start();
   */
  start(): Promise<void> {
    return this.serial(() => this.begin(undefined));
  }

  /**
   * Stops every child in reverse order, each within its shutdown timeout (then it is considered
   * killed and the next one is stopped), and cancels pending restarts. Under a parent, this
   * supervisor then ends with `'shutdown'`. Does nothing when not running.
   *
   * @example
   * process.once('SIGTERM', () => void root.stop());
   */
  stop(): Promise<void> {
    return this.serial(async () => {
      if (this.current === 'idle' || this.current === 'stopped') return;
      this.current = 'stopping';
      this.epoch++;
      this.cancelPasses();
      await this.stopAll('shutdown');
      this.current = 'stopped';
      this.parent?.resolveDone({ reason: 'shutdown' });
    });
  }

  /**
   * Adds a child after the others and starts it if the supervisor runs (else it starts with the
   * supervisor). A failed start is handled like a crash (event, log, restart with backoff).
   * Rejects with a {@link ConfigError} for an invalid spec or an id already in use, and with the
   * {@link SupervisorEscalatedError} if its failure made the supervisor escalate.
   *
   * @example
   * await processor.startChild({ id: 'partition:clicks-3', start: (ctx) => startPartitionActor(ctx) }); // assigned
   */
  startChild(options: ChildSpecOptions): Promise<void> {
    let spec: ChildSpec;
    try {
      spec = childSpec(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.serial(async () => {
      if (this.find(spec.id)) throw new ConfigError('child.id', `duplicate child id '${spec.id}' in supervisor '${this.ownPath}'`);
      this.children.push(newChild(spec));
      if (this.current !== 'running') return;
      await this.startPass([spec.id]);
      if (this.hasEscalated()) throw this.escalation!;
    });
  }

  /**
   * Stops a child (within its shutdown timeout) and removes it, or cancels its pending restart.
   * Its siblings are not affected whatever the strategy. Resolves `false` if there is no such child.
   *
   * @example
   * await processor.terminateChild('partition:clicks-3'); // revoked: drained, committed, forgotten
   */
  terminateChild(id: string): Promise<boolean> {
    return this.serial(async () => {
      const child = this.find(id);
      if (!child) return false;
      if (child.state === 'running') await this.stopChild(child, 'terminate');
      this.leavePass(child);
      this.remove(child);
      return true;
    });
  }

  /**
   * The children in start order, with their state (OTP's `which_children`).
   *
   * @example
   * processor.whichChildren().filter((c) => c.state === 'running').length; // running partition actors
   */
  whichChildren(): ChildInfo[] {
    return this.children.map(({ spec, state }) => ({ id: spec.id, type: spec.type, restart: spec.restart, state }));
  }

  /**
   * Healthy while starting or running; otherwise not, with the reason.
   *
   * @example
   * const { healthy, reason } = root.health(); // after a 'stay-down' escalation: false, "supervisor 'node' exceeded ..."
   */
  health(): SupervisorHealth {
    switch (this.current) {
      case 'starting':
      case 'running':
        return { healthy: true, state: this.current };
      case 'idle':
        return { healthy: false, state: this.current, reason: `supervisor '${this.ownPath}' has not been started` };
      case 'stopping':
      case 'stopped':
        return { healthy: false, state: this.current, reason: `supervisor '${this.ownPath}' is ${this.current}` };
      case 'escalated':
        return { healthy: false, state: this.current, reason: this.escalation?.message ?? `supervisor '${this.ownPath}' escalated` };
    }
  }

  /**
   * This supervisor and, recursively, the supervisors below it: children, states, restarts, last errors.
   *
   * @example
   * res.json(root.snapshot()); // a status page
   */
  snapshot(): SupervisorSnapshot {
    const now = this.clock.now();
    const children = this.children.map((child): ChildSnapshot => {
      const { spec } = child;
      const nested = spec.inspect?.();
      return {
        id: spec.id,
        type: spec.type,
        restart: spec.restart,
        state: child.state,
        path: this.childPath(spec.id),
        restarts: child.restarts,
        backoffAttempt: this.ranStably(child, now) ? 0 : child.attempt,
        startedAt: child.startedAt,
        lastError: child.lastError,
        ...(nested ? { supervisor: nested } : {}),
      };
    });
    return {
      name: this.name,
      path: this.ownPath,
      state: this.current,
      strategy: this.flags.strategy,
      recentRestarts: this.intensity.count(now),
      intensity: this.flags.intensity,
      periodMs: this.flags.periodMs,
      health: this.health(),
      children,
    };
  }

  /**
   * This supervisor as the child of another one: each (re)start by the parent starts it under
   * the parent (sharing its clock, logger and events unless given its own); it ends `'failed'`
   * with the {@link SupervisorEscalatedError} when it escalates, and `'shutdown'` when stopped.
   *
   * @example
   * const node = new Supervisor({ name: 'node', children: [connectors.asChild(), clicks.asChild({ shutdownTimeoutMs: 60_000 })] });
   */
  asChild(options: AsChildOptions = {}): ChildSpec {
    return childSpec({
      id: options.id ?? this.name,
      type: 'supervisor',
      restart: options.restart ?? 'permanent',
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
      start: (ctx) => this.startUnder(ctx),
      inspect: () => this.snapshot(),
    });
  }

  // -- the mechanism ---------------------------------------------------------------------------

  private async startUnder(ctx: ChildContext): Promise<ChildHandle> {
    let resolveDone!: (exit: ChildExit) => void;
    const done = new Promise<ChildExit>((resolve) => (resolveDone = resolve));
    const link: ParentLink = { ctx, resolveDone };
    await this.serial(() => this.begin(link));
    return {
      done,
      stop: async () => {
        if (this.parent === link) await this.stop();
      },
    };
  }

  private async begin(link: ParentLink | undefined): Promise<void> {
    if (this.current === 'starting' || this.current === 'running' || this.current === 'stopping') {
      throw new TributaryError(`supervisor '${this.ownPath}' is already ${this.current}`);
    }
    this.parent = link;
    this.ownPath = link?.ctx.path ?? this.name;
    this.clock = this.options.clock ?? link?.ctx.clock ?? systemClock;
    this.random = this.options.random ?? link?.ctx.random ?? Math.random;
    this.logger = this.options.logger ?? link?.ctx.logger ?? this.logger ?? createLogger();
    this.epoch++;
    this.current = 'starting';
    this.escalation = undefined;
    this.intensity.reset();
    for (const child of this.children) {
      child.state = 'pending';
      child.handle = undefined;
      child.attempt = 0;
      child.pass = undefined;
    }
    await this.startPass(this.children.map((c) => c.spec.id));
    if (this.hasEscalated()) throw this.escalation!;
    this.current = 'running';
  }

  /** Starts, in start order, those of `ids` still `pending`; a failure may mark later ones `restarting` (the strategy). */
  private async startPass(ids: readonly string[]): Promise<void> {
    const epoch = this.epoch;
    for (const id of ids) {
      if (this.epoch !== epoch || this.hasEscalated()) return;
      const child = this.find(id);
      if (child?.state === 'pending') await this.startOne(child);
    }
  }

  private async startOne(child: Child): Promise<void> {
    const { spec } = child;
    child.state = 'starting';
    const incarnation = ++child.incarnation;
    const ctx: ChildContext = {
      id: spec.id,
      path: this.childPath(spec.id),
      restarts: child.restarts,
      clock: this.clock,
      logger: this.log(),
      random: this.random,
      publish: (event) => this.emit(event),
    };
    let handle: ChildHandle;
    try {
      handle = await Promise.resolve().then(() => spec.start(ctx));
      if (typeof handle?.stop !== 'function' || typeof handle.done?.then !== 'function') {
        throw new ChildFailedError(ctx.path, 'start() did not resolve to a ChildHandle { stop, done }');
      }
    } catch (err) {
      await this.childDown(child, { reason: 'failed', error: this.toError(err, child, 'start() rejected') }, 'start');
      return;
    }
    child.handle = handle;
    child.state = 'running';
    child.startedAt = this.clock.now();
    this.emit({ type: 'supervisor.child-started', supervisor: this.ownPath, child: spec.id, path: ctx.path, at: child.startedAt, restarts: child.restarts });
    this.log().info({ supervisor: this.ownPath, child: spec.id, restarts: child.restarts }, 'child started');
    const epoch = this.epoch;
    void handle.done
      .then(
        (exit) => this.normalizeExit(exit, child),
        (err: unknown): ChildExit => ({ reason: 'failed', error: this.toError(err, child, "'done' rejected") }),
      )
      .then((exit) => this.enqueue(() => this.onExit(child, incarnation, epoch, exit)));
  }

  /** A running child ended on its own (not stopped by us: then its state is no longer `running`). */
  private async onExit(child: Child, incarnation: number, epoch: number, exit: ChildExit): Promise<void> {
    if (epoch !== this.epoch || child.incarnation !== incarnation || child.state !== 'running' || !this.children.includes(child)) return;
    await this.childDown(child, exit, 'run');
  }

  /** A child is down (ended, or its start failed): report it, then restart per restart type and strategy, or escalate. */
  private async childDown(child: Child, exit: ChildExit, phase: 'start' | 'run'): Promise<void> {
    const { spec } = child;
    const now = this.clock.now();
    const path = this.childPath(spec.id);
    const ranStably = phase === 'run' && this.ranStably(child, now);
    child.handle = undefined;
    child.state = 'stopped';
    if (exit.reason === 'failed') {
      const error = exit.error ?? new ChildFailedError(path, "exited 'failed' without an error");
      child.lastError = summarize(error, now);
      this.emit({ type: 'supervisor.child-failed', supervisor: this.ownPath, child: spec.id, path, at: now, error, phase });
      this.log().error({ err: error, supervisor: this.ownPath, child: spec.id, phase }, phase === 'start' ? 'child failed to start' : 'child failed');
    } else {
      this.emit({ type: 'supervisor.child-stopped', supervisor: this.ownPath, child: spec.id, path, at: now, exit: exit.reason, stopReason: undefined, killed: false });
      this.log().info({ supervisor: this.ownPath, child: spec.id, exit: exit.reason }, 'child exited');
    }
    const restart = spec.restart === 'permanent' || (spec.restart === 'transient' && exit.reason === 'failed');
    if (!restart) {
      if (spec.restart === 'temporary') this.remove(child);
      return;
    }
    if (ranStably) child.attempt = 0;
    // A permanent failure (isPermanent: a store over its budget) fails again after any restart: escalate at once.
    if (isPermanent(exit.error) || !this.intensity.record(now)) {
      const cause = exit.error ?? new ChildFailedError(path, `exited '${exit.reason}'`);
      await this.escalate(child, cause, now);
      return;
    }
    const set = restartSet(this.flags.strategy, this.children.map((c) => c.spec.id), spec.id)
      .map((id) => this.find(id))
      .filter((c): c is Child => c !== undefined);
    for (const other of [...set].reverse()) {
      if (other === child) continue;
      if (other.state === 'running') {
        await this.stopChild(other, 'restart');
        // OTP: a temporary child stopped because of a sibling is not restarted.
        if (other.spec.restart === 'temporary') this.remove(other);
      }
    }
    const pass: RestartPass = { ids: new Set(), timer: undefined };
    for (const member of set) {
      if (!this.children.includes(member)) continue;
      if (member.pass === undefined && member.state !== 'pending') member.restarts++; // not yet started: not a restart
      this.leavePass(member); // merged into this restart
      member.state = 'restarting';
      member.pass = pass;
      pass.ids.add(member.spec.id);
    }
    const delayMs = backoffDelay(child.attempt, this.flags.backoff, this.random);
    child.attempt++;
    const epoch = this.epoch;
    pass.timer = this.clock.setTimeout(() => this.enqueue(() => this.runPass(pass, epoch)), delayMs);
    this.passes.add(pass);
    const children = [...pass.ids];
    this.emit({ type: 'supervisor.child-restarting', supervisor: this.ownPath, child: spec.id, path, at: now, delayMs, attempt: child.attempt, children });
    this.log().warn({ supervisor: this.ownPath, child: spec.id, delayMs, attempt: child.attempt, children }, 'child restarting');
  }

  private async runPass(pass: RestartPass, epoch: number): Promise<void> {
    if (epoch !== this.epoch || !this.passes.has(pass)) return;
    this.passes.delete(pass);
    const ids: string[] = [];
    for (const child of this.children) {
      if (child.pass !== pass) continue;
      child.pass = undefined;
      child.state = 'pending';
      ids.push(child.spec.id);
    }
    await this.startPass(ids);
  }

  /** Asks a running child to stop and waits for it to end, at most its shutdown timeout. */
  private async stopChild(child: Child, reason: StopReason): Promise<void> {
    const { spec } = child;
    const handle = child.handle!;
    child.state = 'stopping';
    let stopError: Error | undefined;
    let reported = false;
    void Promise.resolve()
      .then(() => handle.stop(reason))
      .catch((err: unknown) => {
        const error = this.toError(err, child, 'stop() rejected');
        if (!reported) stopError = error;
        else this.log().error({ err: error, supervisor: this.ownPath, child: spec.id, reason }, "child's stop() rejected after it was reported stopped");
      });
    const ended = handle.done.then(
      (exit) => this.normalizeExit(exit, child),
      (err: unknown): ChildExit => ({ reason: 'failed', error: this.toError(err, child, "'done' rejected") }),
    );
    let timer: unknown;
    const timedOut = new Promise<undefined>((resolve) => {
      if (Number.isFinite(spec.shutdownTimeoutMs)) timer = this.clock.setTimeout(() => resolve(undefined), spec.shutdownTimeoutMs);
    });
    const exit = await Promise.race([ended, timedOut]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    await Promise.resolve(); // a stop() that rejected right away is reported with the exit
    reported = true;
    child.handle = undefined;
    child.state = 'stopped';
    const now = this.clock.now();
    const killed = exit === undefined;
    const error = stopError ?? (exit?.reason === 'failed' ? exit.error : undefined);
    if (error) child.lastError = summarize(error, now);
    const path = this.childPath(spec.id);
    this.emit({
      type: 'supervisor.child-stopped',
      supervisor: this.ownPath,
      child: spec.id,
      path,
      at: now,
      exit: exit?.reason,
      stopReason: reason,
      killed,
      ...(error ? { error } : {}),
    });
    if (killed) {
      this.log().warn({ supervisor: this.ownPath, child: spec.id, reason, shutdownTimeoutMs: spec.shutdownTimeoutMs }, 'child did not stop within its shutdown timeout; considered killed');
    } else if (error) {
      this.log().error({ err: error, supervisor: this.ownPath, child: spec.id, reason }, 'child failed while stopping');
    } else {
      this.log().info({ supervisor: this.ownPath, child: spec.id, reason }, 'child stopped');
    }
  }

  /** Stops every running child in reverse start order; cancels pending restarts; forgets temporary children. */
  private async stopAll(reason: StopReason): Promise<void> {
    for (const child of [...this.children].reverse()) {
      if (child.state === 'running') await this.stopChild(child, reason);
      child.pass = undefined;
      child.state = 'stopped';
      if (child.spec.restart === 'temporary') this.remove(child);
    }
  }

  private async escalate(child: Child, cause: Error, now: number): Promise<void> {
    this.current = 'escalated';
    this.cancelPasses();
    const error = new SupervisorEscalatedError(this.ownPath, child.spec.id, this.intensity.count(now), this.flags.intensity, this.flags.periodMs, cause);
    this.escalation = error;
    this.log().error({ err: error, supervisor: this.ownPath, child: child.spec.id }, 'restart intensity exceeded; stopping every child and escalating');
    await this.stopAll('escalation');
    this.emit({ type: 'supervisor.escalated', supervisor: this.ownPath, child: child.spec.id, at: this.clock.now(), error });
    if (this.parent) {
      this.parent.resolveDone({ reason: 'failed', error });
      return;
    }
    // The root: no one left to tell.
    this.emit({ type: 'supervisor.gave-up', supervisor: this.ownPath, at: this.clock.now(), policy: this.policy, error });
    if (this.policy === 'exit') {
      this.log().fatal({ err: error, supervisor: this.ownPath }, 'root supervisor gave up; exiting with code 1');
      (this.options.exit ?? defaultExit)(1);
    } else {
      this.log().fatal({ err: error, supervisor: this.ownPath }, 'root supervisor gave up; staying down (unhealthy)');
    }
  }

  // -- helpers ---------------------------------------------------------------------------------

  /** Runs the tree changes one at a time, in order (an OTP supervisor's mailbox). */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined); // the caller of `run` gets the error
    return run;
  }

  /** A tree change nobody awaits (an exit, a backoff elapsed): a bug in it must not vanish. */
  private enqueue(op: () => Promise<void>): void {
    this.serial(op).catch((err: unknown) => {
      this.log().fatal({ err, supervisor: this.ownPath }, 'supervisor internal error');
      queueMicrotask(() => {
        throw err; // an uncaught exception: let it crash rather than run an inconsistent tree
      });
    });
  }

  /** A method, not `this.current === 'escalated'`: TypeScript would keep the narrowing across awaits. */
  private hasEscalated(): boolean {
    return this.current === 'escalated' && this.escalation !== undefined;
  }

  private emit(event: SupervisorEvent): void {
    this.subject.next(event);
    this.parent?.ctx.publish(event);
  }

  private log(): Logger {
    return (this.logger ??= createLogger());
  }

  private find(id: string): Child | undefined {
    return this.children.find((c) => c.spec.id === id);
  }

  private remove(child: Child): void {
    const at = this.children.indexOf(child);
    if (at >= 0) this.children.splice(at, 1);
  }

  private leavePass(child: Child): void {
    const pass = child.pass;
    if (!pass) return;
    child.pass = undefined;
    pass.ids.delete(child.spec.id);
    if (pass.ids.size === 0) {
      this.clock.clearTimeout(pass.timer);
      this.passes.delete(pass);
    }
  }

  private cancelPasses(): void {
    for (const pass of this.passes) this.clock.clearTimeout(pass.timer);
    this.passes.clear();
    for (const child of this.children) child.pass = undefined;
  }

  private childPath(id: string): string {
    return `${this.ownPath}/${id}`;
  }

  private ranStably(child: Child, now: number): boolean {
    return child.state === 'running' && child.startedAt !== undefined && now - child.startedAt >= this.flags.resetAfterMs;
  }

  private normalizeExit(exit: ChildExit, child: Child): ChildExit {
    const reason = exit?.reason;
    if (reason === 'normal' || reason === 'shutdown') return { reason };
    if (reason === 'failed') return { reason, error: this.toError(exit.error ?? new ChildFailedError(this.childPath(child.spec.id), "exited 'failed' without an error"), child, 'failed') };
    return { reason: 'failed', error: new ChildFailedError(this.childPath(child.spec.id), `exited with an unknown reason ${JSON.stringify(reason)}`) };
  }

  private toError(value: unknown, child: Child, what: string): Error {
    return value instanceof Error ? value : new ChildFailedError(this.childPath(child.spec.id), `${what} with a non-Error: ${String(value)}`, { cause: value });
  }
}

function newChild(spec: ChildSpec): Child {
  return { spec, state: 'pending', handle: undefined, incarnation: 0, restarts: 0, attempt: 0, startedAt: undefined, lastError: undefined, pass: undefined };
}

function summarize(error: Error, at: number): ErrorSummary {
  return { name: error.name, message: error.message, at };
}

function defaultExit(code: number): void {
  process.exit(code);
}
