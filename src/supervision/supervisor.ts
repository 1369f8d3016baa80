import { Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import { ConfigError, TributaryError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, childSpec, type ChildContext, type ChildExit, type ChildHandle, type ChildSpec, type ChildSpecOptions } from './child-spec.js';
import type { Child } from './child-lifecycle.js';
import { systemClock } from './clock.js';
import { SupervisorEscalatedError } from './errors.js';
import { Mailbox } from './mailbox.js';
import { SupervisedChildren, type ChildrenHost } from './supervised-children.js';
import { supervisorFlags, type SupervisorFlags } from './supervisor-flags.js';
import type { EscalationPolicy, SupervisorEvent } from './supervisor-event.js';
import { checkSupervisorOptions, type AsChildOptions, type SupervisorOptions } from './supervisor-options.js';
import { supervisorHealth, type ChildInfo, type SupervisorHealth, type SupervisorSnapshot, type SupervisorState } from './supervisor-snapshot.js';

export type { AsChildOptions, SupervisorOptions } from './supervisor-options.js';

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
 * handled one at a time, in order, like the messages of an OTP supervisor process (its
 * {@link Mailbox}); a backoff does not hold the others up. Every lifecycle event is on `events`, logged, and in `snapshot()`.
 *
 * Where tributary differs from OTP: a child whose `start` rejects counts as a failure (restarted
 * with backoff, counted towards the intensity) rather than failing the supervisor; restarts wait
 * a backoff (OTP restarts at once); a supervisor restarted by its parent starts the children it
 * had when it stopped, those added by `startChild` included (so a processor supervisor brings
 * back the partition actors of the current assignment); `terminateChild` stops *and removes* a
 * child (OTP's `terminate_child` + `delete_child`); a child that outlives its shutdown timeout
 * is abandoned, not killed (JavaScript cannot kill a task).
 *
 * The mechanism is in {@link SupervisedChildren} (starting, restarting and stopping the children)
 * and `child-lifecycle.ts` (one child's start, exit and stop); the strategy is data and pure
 * functions: `restart-set.ts`, `restart-intensity.ts`, `backoff.ts`.
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
  private readonly children: SupervisedChildren;
  private readonly subject = new Subject<SupervisorEvent>();
  private readonly mailbox: Mailbox;
  private current: SupervisorState = 'idle';
  private parent: ParentLink | undefined;
  private escalation: SupervisorEscalatedError | undefined;
  /** Its path, clock and random source (set anew at each start), as its children see them. */
  private readonly env: ChildrenHost;
  private logger: Logger | undefined;

  constructor(options: SupervisorOptions) {
    checkSupervisorOptions(options);
    const { name, children = [], onEscalation = 'exit', clock, logger, random } = options;
    this.name = name;
    this.options = options;
    this.policy = onEscalation;
    this.flags = supervisorFlags(options.flags);
    this.env = {
      path: name,
      clock: clock ?? systemClock,
      random: random ?? Math.random,
      log: () => this.log(),
      emit: (event) => this.emit(event),
      enqueue: (op) => this.mailbox.enqueue(op),
      hasEscalated: () => this.hasEscalated(),
      escalate: (child, cause, now) => this.escalate(child, cause, now),
    };
    this.mailbox = new Mailbox(() => this.log(), () => this.env.path);
    this.children = new SupervisedChildren(this.flags, this.env);
    for (const spec of children.map(childSpec)) {
      if (this.children.has(spec.id)) throw new ConfigError('supervisor.children', `duplicate child id '${spec.id}' in supervisor '${name}'`);
      this.children.add(spec);
    }
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
    return this.env.path;
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
    return this.mailbox.serial(() => this.begin(undefined));
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
    return this.mailbox.serial(async () => {
      if (this.current === 'idle' || this.current === 'stopped') return;
      this.current = 'stopping';
      this.children.newEpoch();
      this.children.cancelPasses();
      await this.children.stopAll('shutdown');
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
    return this.mailbox.serial(async () => {
      if (this.children.has(spec.id)) throw new ConfigError('child.id', `duplicate child id '${spec.id}' in supervisor '${this.env.path}'`);
      this.children.add(spec);
      if (this.current !== 'running') return;
      await this.children.startPass([spec.id]);
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
    return this.mailbox.serial(() => this.children.terminate(id));
  }

  /**
   * The children in start order, with their state (OTP's `which_children`).
   *
   * @example
   * processor.whichChildren().filter((c) => c.state === 'running').length; // running partition actors
   */
  whichChildren(): ChildInfo[] {
    return this.children.info();
  }

  /**
   * Healthy while starting or running; otherwise not, with the reason.
   *
   * @example
   * const { healthy, reason } = root.health(); // after a 'stay-down' escalation: false, "supervisor 'node' exceeded ..."
   */
  health(): SupervisorHealth {
    return supervisorHealth(this.current, this.env.path, this.escalation);
  }

  /**
   * This supervisor and, recursively, the supervisors below it: children, states, restarts, last errors.
   *
   * @example
   * res.json(root.snapshot()); // a status page
   */
  snapshot(): SupervisorSnapshot {
    const now = this.env.clock.now();
    return {
      name: this.name,
      path: this.env.path,
      state: this.current,
      strategy: this.flags.strategy,
      recentRestarts: this.children.recentRestarts(now),
      intensity: this.flags.intensity,
      periodMs: this.flags.periodMs,
      health: this.health(),
      children: this.children.snapshots(now),
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

  // -- its own life: under a parent, starting, escalating ---------------------------------------

  private async startUnder(ctx: ChildContext): Promise<ChildHandle> {
    let resolveDone!: (exit: ChildExit) => void;
    const done = new Promise<ChildExit>((resolve) => (resolveDone = resolve));
    const link: ParentLink = { ctx, resolveDone };
    await this.mailbox.serial(() => this.begin(link));
    return {
      done,
      stop: async () => {
        if (this.parent === link) await this.stop();
      },
    };
  }

  private async begin(link: ParentLink | undefined): Promise<void> {
    if (this.current === 'starting' || this.current === 'running' || this.current === 'stopping') {
      throw new TributaryError(`supervisor '${this.env.path}' is already ${this.current}`);
    }
    this.parent = link;
    this.env.path = link?.ctx.path ?? this.name;
    this.env.clock = this.options.clock ?? link?.ctx.clock ?? systemClock;
    this.env.random = this.options.random ?? link?.ctx.random ?? Math.random;
    this.logger = this.options.logger ?? link?.ctx.logger ?? this.logger ?? createLogger();
    this.children.newEpoch();
    this.current = 'starting';
    this.escalation = undefined;
    await this.children.startAll();
    if (this.hasEscalated()) throw this.escalation!;
    this.current = 'running';
  }

  private async escalate(child: Child, cause: Error, now: number): Promise<void> {
    this.current = 'escalated';
    this.children.cancelPasses();
    const error = new SupervisorEscalatedError(this.env.path, child.spec.id, this.children.recentRestarts(now), this.flags.intensity, this.flags.periodMs, cause);
    this.escalation = error;
    this.log().error({ err: error, supervisor: this.env.path, child: child.spec.id }, 'restart intensity exceeded; stopping every child and escalating');
    await this.children.stopAll('escalation');
    this.emit({ type: 'supervisor.escalated', supervisor: this.env.path, child: child.spec.id, at: this.env.clock.now(), error });
    if (this.parent) {
      this.parent.resolveDone({ reason: 'failed', error });
      return;
    }
    // The root: no one left to tell.
    this.emit({ type: 'supervisor.gave-up', supervisor: this.env.path, at: this.env.clock.now(), policy: this.policy, error });
    if (this.policy === 'exit') {
      this.log().fatal({ err: error, supervisor: this.env.path }, 'root supervisor gave up; exiting with code 1');
      (this.options.exit ?? defaultExit)(1);
    } else {
      this.log().fatal({ err: error, supervisor: this.env.path }, 'root supervisor gave up; staying down (unhealthy)');
    }
  }

  // -- helpers ---------------------------------------------------------------------------------

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
}

function defaultExit(code: number): void {
  process.exit(code);
}
