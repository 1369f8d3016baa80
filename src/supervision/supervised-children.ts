import { isPermanent } from '../errors.js';
import { backoffDelay } from './backoff.js';
import { childPath, childSnapshot, launchChild, newChild, ranStably, stopChild, summarize, type Child, type ChildEnv, type RestartPass } from './child-lifecycle.js';
import type { ChildExit, ChildSpec, StopReason } from './child-spec.js';
import { ChildFailedError } from './errors.js';
import { RestartIntensity } from './restart-intensity.js';
import { restartSet } from './restart-set.js';
import type { SupervisorFlags } from './supervisor-flags.js';
import type { ChildInfo, ChildSnapshot } from './supervisor-snapshot.js';

/** What a supervisor's {@link SupervisedChildren} need from the supervisor itself. */
export interface ChildrenHost extends ChildEnv {
  /** Runs a tree change after the others (the supervisor's mailbox), reporting a bug in it. */
  readonly enqueue: (op: () => Promise<void>) => void;
  /** Whether the supervisor has escalated: a start pass then starts nothing more. */
  readonly hasEscalated: () => boolean;
  /** `child`'s restart exceeded the restart intensity: the supervisor stops every child and fails. */
  readonly escalate: (child: Child, cause: Error, now: number) => Promise<void>;
}

/**
 * The children of one supervisor, in start order, and what happens to them (OTP's
 * `supervisor.erl` mechanism; the supervisor serializes every call here through its mailbox).
 * A start pass starts the pending ones in order. A child that is down (it ended, or its start
 * failed) is reported, then restarted if its restart type says so: counted towards the restart
 * intensity (exceeded: the supervisor escalates), together with the siblings the strategy names
 * ({@link restartSet}; the running ones are stopped first, in reverse order), after a backoff
 * ({@link backoffDelay}) that grows with the failed child's consecutive restarts and starts over
 * once it ran stably for `resetAfterMs`. Children restarted together wait in one restart pass.
 */
export class SupervisedChildren {
  private readonly children: Child[] = [];
  private readonly passes = new Set<RestartPass>();
  private readonly intensity: RestartIntensity;
  /** Increases on every start and stop of the supervisor: timers and exits of an earlier life are stale. */
  private epoch = 0;

  constructor(
    private readonly flags: SupervisorFlags,
    private readonly host: ChildrenHost,
  ) {
    this.intensity = new RestartIntensity(flags.intensity, flags.periodMs);
  }

  has(id: string): boolean {
    return this.find(id) !== undefined;
  }

  /** Adds a child after the others, `pending` (started by the next start pass that names it). */
  add(spec: ChildSpec): void {
    this.children.push(newChild(spec));
  }

  /** The children in start order, with their state (OTP's `which_children`). */
  info(): ChildInfo[] {
    return this.children.map(({ spec, state }) => ({ id: spec.id, type: spec.type, restart: spec.restart, state }));
  }

  snapshots(now: number): ChildSnapshot[] {
    return this.children.map((child) => childSnapshot(child, this.host, now, this.flags.resetAfterMs));
  }

  /** Restarts that still count towards the intensity at `now`. */
  recentRestarts(now: number): number {
    return this.intensity.count(now);
  }

  /** The supervisor starts or stops: what is pending from its previous life is stale. */
  newEpoch(): void {
    this.epoch++;
  }

  /** Starts every child afresh, in order (the supervisor starts): no restart counts any more. */
  async startAll(): Promise<void> {
    this.intensity.reset();
    for (const child of this.children) {
      child.state = 'pending';
      child.handle = undefined;
      child.attempt = 0;
      child.pass = undefined;
    }
    await this.startPass(this.children.map((c) => c.spec.id));
  }

  /** Starts, in start order, those of `ids` still `pending`; a failure may mark later ones `restarting` (the strategy). */
  async startPass(ids: readonly string[]): Promise<void> {
    const epoch = this.epoch;
    for (const id of ids) {
      if (this.epoch !== epoch || this.host.hasEscalated()) return;
      const child = this.find(id);
      if (child?.state === 'pending') await this.startOne(child);
    }
  }

  /** Stops a child (within its shutdown timeout) and removes it, or cancels its pending restart. False if there is no such child. */
  async terminate(id: string): Promise<boolean> {
    const child = this.find(id);
    if (!child) return false;
    if (child.state === 'running') await stopChild(child, 'terminate', this.host);
    this.leavePass(child);
    this.remove(child);
    return true;
  }

  /** Stops every running child in reverse start order; cancels pending restarts; forgets temporary children. */
  async stopAll(reason: StopReason): Promise<void> {
    for (const child of [...this.children].reverse()) {
      if (child.state === 'running') await stopChild(child, reason, this.host);
      child.pass = undefined;
      child.state = 'stopped';
      if (child.spec.restart === 'temporary') this.remove(child);
    }
  }

  cancelPasses(): void {
    for (const pass of this.passes) this.host.clock.clearTimeout(pass.timer);
    this.passes.clear();
    for (const child of this.children) child.pass = undefined;
  }

  private async startOne(child: Child): Promise<void> {
    // Constant while a start pass runs: the supervisor's start and stop wait for it (its mailbox).
    const epoch = this.epoch;
    const failed = await launchChild(child, this.host, (incarnation, exit) => this.host.enqueue(() => this.onExit(child, incarnation, epoch, exit)));
    if (failed) await this.childDown(child, failed, 'start');
  }

  /** A running child ended on its own (not stopped by us: then its state is no longer `running`). */
  private async onExit(child: Child, incarnation: number, epoch: number, exit: ChildExit): Promise<void> {
    if (epoch !== this.epoch || child.incarnation !== incarnation || child.state !== 'running' || !this.children.includes(child)) return;
    await this.childDown(child, exit, 'run');
  }

  /** A child is down (ended, or its start failed): report it, then restart per restart type and strategy, or escalate. */
  private async childDown(child: Child, exit: ChildExit, phase: 'start' | 'run'): Promise<void> {
    const { spec } = child;
    const now = this.host.clock.now();
    const path = childPath(this.host, spec.id);
    const stably = phase === 'run' && ranStably(child, now, this.flags.resetAfterMs);
    child.handle = undefined;
    child.state = 'stopped';
    if (exit.reason === 'failed') {
      const error = exit.error ?? new ChildFailedError(path, "exited 'failed' without an error");
      child.lastError = summarize(error, now);
      this.host.emit({ type: 'supervisor.child-failed', supervisor: this.host.path, child: spec.id, path, at: now, error, phase });
      this.host.log().error({ err: error, supervisor: this.host.path, child: spec.id, phase }, phase === 'start' ? 'child failed to start' : 'child failed');
    } else {
      this.host.emit({ type: 'supervisor.child-stopped', supervisor: this.host.path, child: spec.id, path, at: now, exit: exit.reason, stopReason: undefined, killed: false });
      this.host.log().info({ supervisor: this.host.path, child: spec.id, exit: exit.reason }, 'child exited');
    }
    const restart = spec.restart === 'permanent' || (spec.restart === 'transient' && exit.reason === 'failed');
    if (!restart) {
      if (spec.restart === 'temporary') this.remove(child);
      return;
    }
    if (stably) child.attempt = 0;
    // A permanent failure (isPermanent: a store over its budget, an operator keyed unlike its input) fails again after any restart: escalate at once.
    if (isPermanent(exit.error) || !this.intensity.record(now)) {
      const cause = exit.error ?? new ChildFailedError(path, `exited '${exit.reason}'`);
      await this.host.escalate(child, cause, now);
      return;
    }
    const set = restartSet(this.flags.strategy, this.children.map((c) => c.spec.id), spec.id)
      .map((id) => this.find(id))
      .filter((c): c is Child => c !== undefined);
    for (const other of [...set].reverse()) {
      if (other === child) continue;
      if (other.state === 'running') {
        await stopChild(other, 'restart', this.host);
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
    const delayMs = backoffDelay(child.attempt, this.flags.backoff, this.host.random);
    child.attempt++;
    const epoch = this.epoch;
    pass.timer = this.host.clock.setTimeout(() => this.host.enqueue(() => this.runPass(pass, epoch)), delayMs);
    this.passes.add(pass);
    const children = [...pass.ids];
    this.host.emit({ type: 'supervisor.child-restarting', supervisor: this.host.path, child: spec.id, path, at: now, delayMs, attempt: child.attempt, children });
    this.host.log().warn({ supervisor: this.host.path, child: spec.id, delayMs, attempt: child.attempt, children }, 'child restarting');
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
      this.host.clock.clearTimeout(pass.timer);
      this.passes.delete(pass);
    }
  }
}
