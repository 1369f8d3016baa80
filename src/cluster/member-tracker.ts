import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { ConfigError } from '../errors.js';
import { systemClock, type SupervisorClock } from '../supervision/clock.js';

/**
 * Where a member stands, as this node sees it: `alive` (heard within `suspectAfterMs`),
 * `suspected` (silent for `suspectAfterMs`, 1 s by default), `down` (silent for `downAfterMs`,
 * 2 s by default), `left` (announced a graceful leave). A heartbeat brings a suspected or down
 * member back to alive.
 *
 * @example
 * const gone = (s: MemberStatus): boolean => s === 'down' || s === 'left';
 */
export type MemberStatus = 'alive' | 'suspected' | 'down' | 'left';

/**
 * One partition a node runs an actor for, as its heartbeat reports it.
 *
 * @example
 * const claim: PartitionClaim = { topic: 'clicks', partition: 3, state: 'running' };
 */
export interface PartitionClaim {
  readonly topic: string;
  readonly partition: number;
  /** The partition actor's state (`starting`, `running`, `draining`, ...). */
  readonly state: string;
}

/**
 * What a node says about itself in every heartbeat.
 *
 * @example
 * const running = node.members().members.flatMap((m) => m.report.processors.map((p) => `${m.node}:${p.id}`));
 */
export interface MemberReport {
  /** Random per process start: a new incarnation under the same node id is a restart. */
  readonly incarnation: string;
  /** Heartbeat number within the incarnation (older or repeated ones are ignored). */
  readonly seq: number;
  /** Epoch ms when this incarnation started. */
  readonly startedAt: number;
  /** The app's state (`running`, `stopping`, ...) and health. */
  readonly state: string;
  readonly healthy: boolean;
  /** Names of the actor handlers registered on the node (paths or `prefix*` patterns). */
  readonly handlers: readonly string[];
  readonly processors: ReadonlyArray<{
    readonly id: string;
    readonly paused: boolean;
    readonly topics: readonly string[];
    readonly partitions: readonly PartitionClaim[];
  }>;
  /**
   * The node's members of log consumer groups now (Kafka member ids): when the node is declared
   * down, a survivor removes them from their groups so that its partitions move at once (see
   * {@link MemberEviction}). Absent from nodes that run no group consumer (or predate eviction).
   */
  readonly groups?: readonly GroupMembership[];
}

/**
 * One consumer-group member a node holds, as its heartbeat reports it.
 *
 * @example
 * const mine: GroupMembership = { group: 'clickstream', member: 'tributary-3b1f0c2e-...' };
 */
export interface GroupMembership {
  readonly group: string;
  readonly member: string;
}

/**
 * A node in the view. Times are this node's clock (ms).
 *
 * @example
 * const alive = node.members().members.filter((m: Member) => m.status === 'alive').map((m) => m.node);
 */
export interface Member {
  readonly node: string;
  readonly status: MemberStatus;
  /** Whether this is the node holding the view. */
  readonly self: boolean;
  readonly incarnation: string;
  /** When it entered its current status. */
  readonly since: number;
  /** When its last heartbeat arrived (or, after this node reconnected to NATS, the reconnect). */
  readonly lastHeardAt: number;
  readonly report: MemberReport;
}

/**
 * Which node runs the actor of a partition, as the heartbeats say.
 *
 * @example
 * const owner: PartitionOwner | undefined = node.members().partitions.find((p) => p.topic === 'clicks' && p.partition === 3);
 */
export interface PartitionOwner {
  readonly processor: string;
  readonly topic: string;
  readonly partition: number;
  readonly node: string;
  readonly state: string;
}

/**
 * The view at one moment: every member (self included) and the owner of every claimed partition.
 *
 * @example
 * node.membership.subscribe((view: MembershipSnapshot) => console.log(view.members.length, 'nodes,', view.partitions.length, 'partitions'));
 */
export interface MembershipSnapshot {
  readonly at: number;
  readonly self: string;
  readonly members: readonly Member[];
  /** One owner per (processor, topic, partition), sorted; see {@link MemberTracker.ownerOf} for ties. */
  readonly partitions: readonly PartitionOwner[];
}

/**
 * A change of a member's status. `at` is this node's clock.
 *
 * @example
 * node.events.subscribe((e: MembershipEvent) => { if (e.type === 'member.down') alert(`${e.node} down after ${e.silentForMs} ms`); });
 */
export type MembershipEvent =
  | { readonly type: 'member.joined'; readonly node: string; readonly at: number }
  | { readonly type: 'member.restarted'; readonly node: string; readonly at: number }
  | { readonly type: 'member.alive'; readonly node: string; readonly at: number; readonly silentForMs: number }
  | { readonly type: 'member.suspected'; readonly node: string; readonly at: number; readonly silentForMs: number }
  | { readonly type: 'member.down'; readonly node: string; readonly at: number; readonly silentForMs: number; readonly partitions: readonly PartitionOwner[] }
  | { readonly type: 'member.left'; readonly node: string; readonly at: number }
  | { readonly type: 'member.forgotten'; readonly node: string; readonly at: number };

/**
 * Failure-detector timings, validated by {@link membershipTimings}.
 *
 * @example
 * new ClusterNode({ app, cluster: 'c', servers, heartbeatIntervalMs: 250, suspectAfterMs: 750, downAfterMs: 1_500 });
 */
export interface MembershipTimings {
  /** How often a node heartbeats. Default 250 ms. */
  readonly heartbeatIntervalMs: number;
  /** Silence after which a member is suspected. Default 1,000 ms (4 missed heartbeats). */
  readonly suspectAfterMs: number;
  /** Silence after which a member is declared down (and its group members evicted). Default 2,000 ms (8 missed heartbeats). */
  readonly downAfterMs: number;
  /** How long a down or left member stays in the view before it is forgotten. Default 60,000 ms. */
  readonly forgetAfterMs: number;
}

/**
 * The defaults: heartbeat 250 ms, suspected after 1 s, down after 2 s, forgotten after 60 s.
 * Tuned for failover (a dead node's partitions move about 2.5 s after it dies, see
 * docs/runtime.md "Failover"): a node silent for 2 s is evicted from its consumer groups, so a
 * node that stalls for longer than that (a long GC pause, a blocked event loop, a NATS-only
 * network cut) loses its partitions and joins again; raise `downAfterMs` where such stalls are
 * normal.
 *
 * @example
 * const silentFor = DEFAULT_MEMBERSHIP_TIMINGS.downAfterMs; // 2,000 ms
 */
export const DEFAULT_MEMBERSHIP_TIMINGS: MembershipTimings = Object.freeze({
  heartbeatIntervalMs: 250,
  suspectAfterMs: 1_000,
  downAfterMs: 2_000,
  forgetAfterMs: 60_000,
});

/**
 * Fills in the defaults and checks `0 < heartbeatIntervalMs < suspectAfterMs < downAfterMs`,
 * throwing a {@link ConfigError} naming the setting.
 *
 * @example
 * membershipTimings({ heartbeatIntervalMs: 200, suspectAfterMs: 600, downAfterMs: 1_200 });
 */
export function membershipTimings(options: Partial<MembershipTimings> = {}): MembershipTimings {
  const t = { ...DEFAULT_MEMBERSHIP_TIMINGS, ...stripUndefined(options) };
  for (const key of Object.keys(DEFAULT_MEMBERSHIP_TIMINGS) as (keyof MembershipTimings)[]) {
    if (!Number.isSafeInteger(t[key]) || t[key] <= 0) throw new ConfigError(`cluster.${key}`, `must be a positive integer, got ${String(t[key])}`);
  }
  if (t.suspectAfterMs <= t.heartbeatIntervalMs) {
    throw new ConfigError('cluster.suspectAfterMs', `must exceed heartbeatIntervalMs (${t.heartbeatIntervalMs}), got ${t.suspectAfterMs}`);
  }
  if (t.downAfterMs <= t.suspectAfterMs) {
    throw new ConfigError('cluster.downAfterMs', `must exceed suspectAfterMs (${t.suspectAfterMs}), got ${t.downAfterMs}`);
  }
  return Object.freeze(t);
}

/**
 * Options of {@link MemberTracker}.
 *
 * @example
 * new MemberTracker({ self: 'a', timings: { downAfterMs: 5_000 }, clock: new SimulatedClock() });
 */
export interface MemberTrackerOptions {
  /** This node's id. */
  readonly self: string;
  readonly timings?: Partial<MembershipTimings>;
  /** Default: the system clock. Tests pass a `SimulatedClock`. */
  readonly clock?: SupervisorClock;
}

interface MutableMember {
  node: string;
  status: MemberStatus;
  self: boolean;
  incarnation: string;
  since: number;
  lastHeardAt: number;
  report: MemberReport;
  timer: unknown;
  /** Report minus seq, to tell a change from a repeat. */
  fingerprint: string;
}

/**
 * The membership state machine, without any networking: fed heartbeats and leave notices, it
 * keeps each member's status on a clock and publishes the view and its changes.
 *
 * ```
 *            heartbeat                 silent 1 s                 silent 2 s  
 *  (new) ───────────────► alive ─────────────────► suspected ─────────────────► down ──► forgotten (60 s)
 *                          ▲  ▲      heartbeat         │                          │
 *                          │  └────────────────────────┘          heartbeat       │
 *                          └──────────────────────────────────────────────────────┘
 *  leave notice (any status) ──► left ──► forgotten (60 s)
 * ```
 *
 * It judges no one while its own node cannot hear: between {@link hold} and {@link release}
 * (the NATS connection is down) no member changes status, and after {@link release} every
 * member gets a fresh window, as if heard at that moment; the same holds when this node stops
 * hearing its own heartbeats come back within two intervals ({@link selfHeard}), the sign of a
 * connection that is up but not delivering (or of an event loop that stalled). So a nats-server restart does not make every node declare every other
 * down.
 *
 * @example
 * const tracker = new MemberTracker({ self: 'a', clock });
 * tracker.heartbeat('b', report);
 * await clock.advance(1_000); // b: suspected
 * await clock.advance(1_000); // b: down
 * tracker.events.subscribe((e) => console.log(e.type, e.node));
 */
export class MemberTracker {
  readonly timings: MembershipTimings;
  private readonly clock: SupervisorClock;
  private readonly members = new Map<string, MutableMember>();
  private readonly eventSubject = new Subject<MembershipEvent>();
  private readonly viewSubject: BehaviorSubject<MembershipSnapshot>;
  private held = false;
  /** This node's own heartbeats stopped coming back: judging is suspended until they do. */
  private deaf = false;
  private lastEchoAt: number | undefined;
  private closed = false;

  constructor(private readonly options: MemberTrackerOptions) {
    this.timings = membershipTimings(options.timings);
    this.clock = options.clock ?? systemClock;
    this.viewSubject = new BehaviorSubject(this.buildSnapshot());
  }

  /** Status changes, as they happen. */
  get events(): Observable<MembershipEvent> {
    return this.eventSubject.asObservable();
  }

  /** The view: the current snapshot first, then every change (a status, a member's partitions or handlers). */
  get changes(): Observable<MembershipSnapshot> {
    return this.viewSubject.asObservable();
  }

  snapshot(): MembershipSnapshot {
    return this.viewSubject.getValue();
  }

  /** A member by id (self included). */
  member(node: string): Member | undefined {
    const m = this.members.get(node);
    return m && toMember(m);
  }

  /** A member's status (self included); undefined for a node never heard of. */
  statusOf(node: string): MemberStatus | undefined {
    return this.members.get(node)?.status;
  }

  /** Whether `node` is known and declared down or left (a node never heard of is not "down"). */
  isGone(node: string): boolean {
    const status = this.members.get(node)?.status;
    return status === 'down' || status === 'left';
  }

  /**
   * The node running the actor of a partition: among members alive or suspected that claim it,
   * alive before suspected, then a `running` actor before one starting or draining, then the
   * freshest heartbeat. Undefined when no live member claims it.
   */
  ownerOf(processor: string, topic: string, partition: number): PartitionOwner | undefined {
    return this.snapshot().partitions.find((p) => p.processor === processor && p.topic === topic && p.partition === partition);
  }

  /** This node's own report (its heartbeat); it is always `alive` in its own view. */
  updateSelf(report: MemberReport): void {
    if (this.closed) return;
    const now = this.clock.now();
    const existing = this.members.get(this.options.self);
    const fingerprint = fingerprintOf(report);
    if (existing) {
      existing.report = report;
      existing.lastHeardAt = now;
      if (existing.fingerprint === fingerprint) return;
      existing.fingerprint = fingerprint;
    } else {
      this.members.set(this.options.self, {
        node: this.options.self,
        status: 'alive',
        self: true,
        incarnation: report.incarnation,
        since: now,
        lastHeardAt: now,
        report,
        timer: undefined,
        fingerprint,
      });
    }
    this.publish();
  }

  /** A heartbeat from `node` arrived. Its own echo counts as {@link selfHeard}. */
  heartbeat(node: string, report: MemberReport): void {
    if (this.closed) return;
    if (node === this.options.self) {
      if (report.incarnation === this.members.get(node)?.incarnation) this.selfHeard();
      return;
    }
    const now = this.clock.now();
    const existing = this.members.get(node);
    const fingerprint = fingerprintOf(report);
    if (!existing) {
      const member: MutableMember = { node, status: 'alive', self: false, incarnation: report.incarnation, since: now, lastHeardAt: now, report, timer: undefined, fingerprint };
      this.members.set(node, member);
      this.schedule(member);
      this.emit({ type: 'member.joined', node, at: now });
      this.publish();
      return;
    }
    if (existing.incarnation !== report.incarnation) {
      // A restart under the same id; a late heartbeat of the previous incarnation is ignored.
      if (report.startedAt < existing.report.startedAt) return;
      existing.incarnation = report.incarnation;
      existing.status = 'alive';
      existing.since = now;
      existing.lastHeardAt = now;
      existing.report = report;
      existing.fingerprint = fingerprint;
      this.schedule(existing);
      this.emit({ type: 'member.restarted', node, at: now });
      this.publish();
      return;
    }
    if (existing.status === 'left' || report.seq <= existing.report.seq) return;
    const silentForMs = now - existing.lastHeardAt;
    const wasGone = existing.status !== 'alive';
    existing.lastHeardAt = now;
    existing.report = report;
    if (wasGone) {
      existing.status = 'alive';
      existing.since = now;
      this.emit({ type: 'member.alive', node, at: now, silentForMs });
    }
    this.schedule(existing);
    if (wasGone || existing.fingerprint !== fingerprint) {
      existing.fingerprint = fingerprint;
      this.publish();
    }
  }

  /** `node` announced a graceful leave (of this incarnation): it is `left` at once. */
  leave(node: string, incarnation: string): void {
    if (this.closed) return;
    const member = this.members.get(node);
    if (!member || member.self || member.incarnation !== incarnation || member.status === 'left') return;
    const now = this.clock.now();
    member.status = 'left';
    member.since = now;
    this.schedule(member);
    this.emit({ type: 'member.left', node, at: now });
    this.publish();
  }

  /** This node's own heartbeat came back through NATS: its connection delivers. */
  selfHeard(): void {
    const now = this.clock.now();
    const previous = this.lastEchoAt;
    this.lastEchoAt = now;
    if (!this.deaf) return;
    this.deaf = false;
    if (this.held) return;
    // The silence of others during our own gap is not theirs: credit them with the gap (less the
    // normal spacing of one interval), so that a dead member is still declared down soon after.
    const gap = previous === undefined ? 0 : Math.max(0, now - previous - this.timings.heartbeatIntervalMs);
    for (const member of this.members.values()) {
      if (member.self) continue;
      if (member.status === 'alive' || member.status === 'suspected') member.lastHeardAt = Math.min(now, member.lastHeardAt + gap);
      this.schedule(member);
    }
  }

  /** This node lost NATS: stop judging others (nobody's status changes until {@link release}). */
  hold(): void {
    if (this.held) return;
    this.held = true;
    for (const member of this.members.values()) this.clock.clearTimeout(member.timer);
  }

  /** This node is back on NATS: judging resumes, every member alive or suspected gets a fresh window. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.lastEchoAt = undefined; // wait for the first echo after the reconnect before judging on it
    this.deaf = false;
    this.refreshAll();
  }

  /** Whether judging is suspended (no NATS, or no echo of its own heartbeats). */
  get judging(): boolean {
    return !this.held && !this.deaf;
  }

  /** Stops every timer and completes the observables. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const member of this.members.values()) this.clock.clearTimeout(member.timer);
    this.eventSubject.complete();
    this.viewSubject.complete();
  }

  private refreshAll(): void {
    const now = this.clock.now();
    for (const member of this.members.values()) {
      if (member.self) continue;
      if (member.status === 'alive' || member.status === 'suspected') member.lastHeardAt = now;
      this.schedule(member);
    }
  }

  /** Sets the member's one timer to its next deadline: suspect, down, or forget. */
  private schedule(member: MutableMember): void {
    this.clock.clearTimeout(member.timer);
    member.timer = undefined;
    if (member.self || this.closed || this.held) return;
    const { suspectAfterMs, downAfterMs, forgetAfterMs } = this.timings;
    const due =
      member.status === 'alive'
        ? member.lastHeardAt + suspectAfterMs
        : member.status === 'suspected'
          ? member.lastHeardAt + downAfterMs
          : member.since + forgetAfterMs;
    member.timer = this.clock.setTimeout(() => this.deadline(member), Math.max(0, due - this.clock.now()));
  }

  private deadline(member: MutableMember): void {
    member.timer = undefined;
    if (this.closed || this.held || this.members.get(member.node) !== member) return;
    const now = this.clock.now();
    if (member.status === 'down' || member.status === 'left') {
      this.members.delete(member.node);
      this.emit({ type: 'member.forgotten', node: member.node, at: now });
      this.publish();
      return;
    }
    if (!this.canHear(now)) {
      // Our own heartbeats stopped coming back: the silence may be ours. Judge no one until they do.
      this.deaf = true;
      return;
    }
    const silentForMs = now - member.lastHeardAt;
    if (member.status === 'alive' && silentForMs >= this.timings.suspectAfterMs) {
      member.status = 'suspected';
      member.since = now;
      this.emit({ type: 'member.suspected', node: member.node, at: now, silentForMs });
      this.publish();
    } else if (member.status === 'suspected' && silentForMs >= this.timings.downAfterMs) {
      const partitions = this.snapshot().partitions.filter((p) => p.node === member.node);
      member.status = 'down';
      member.since = now;
      this.emit({ type: 'member.down', node: member.node, at: now, silentForMs, partitions });
      this.publish();
    }
    this.schedule(member);
  }

  /**
   * False when this node has heard its own heartbeat before but not within two heartbeat
   * intervals (500 ms by default): its connection, or its event loop, is not delivering, so the
   * silence of others may be its own.
   */
  private canHear(now: number): boolean {
    return this.lastEchoAt === undefined || now - this.lastEchoAt <= 2 * this.timings.heartbeatIntervalMs;
  }

  private emit(event: MembershipEvent): void {
    this.eventSubject.next(event);
  }

  private publish(): void {
    if (!this.closed) this.viewSubject.next(this.buildSnapshot());
  }

  private buildSnapshot(): MembershipSnapshot {
    const members = [...this.members.values()].sort((a, b) => a.node.localeCompare(b.node));
    const best = new Map<string, { owner: PartitionOwner; rank: [number, number, number] }>();
    for (const m of members) {
      if (m.status !== 'alive' && m.status !== 'suspected') continue;
      for (const p of m.report.processors) {
        for (const claim of p.partitions) {
          const key = `${p.id}\u0000${claim.topic}\u0000${claim.partition}`;
          const rank: [number, number, number] = [m.status === 'alive' ? 0 : 1, claim.state.startsWith('running') ? 0 : 1, -m.lastHeardAt];
          const current = best.get(key);
          if (!current || compareRank(rank, current.rank) < 0) {
            best.set(key, { owner: { processor: p.id, topic: claim.topic, partition: claim.partition, node: m.node, state: claim.state }, rank });
          }
        }
      }
    }
    const partitions = [...best.values()]
      .map((b) => b.owner)
      .sort((a, b) => a.processor.localeCompare(b.processor) || a.topic.localeCompare(b.topic) || a.partition - b.partition);
    return { at: this.clock.now(), self: this.options.self, members: members.map(toMember), partitions };
  }
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function toMember(m: MutableMember): Member {
  return { node: m.node, status: m.status, self: m.self, incarnation: m.incarnation, since: m.since, lastHeardAt: m.lastHeardAt, report: m.report };
}

function fingerprintOf(report: MemberReport): string {
  return JSON.stringify([report.state, report.healthy, report.handlers, report.processors, report.groups ?? []]);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
