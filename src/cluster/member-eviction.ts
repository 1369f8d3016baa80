import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { Subject, type Observable, type Subscription } from 'rxjs';
import type { GroupEviction, MemberRemoval } from '../connectors/log.js';
import type { GroupMembership, MemberTracker, MembershipSnapshot } from './member-tracker.js';

/**
 * What the eviction did about a node that went down (or restarted under its id):
 * - `eviction.delegated`: another live node is the evictor (`evictor`), this one does nothing;
 * - `eviction.done`: this node was the evictor and asked the group coordinators to remove the
 *   node's members; `removals` says, per member, `removed`, `already-gone` or `failed`.
 *
 * @example
 * node.evictions.subscribe((e) => { if (e.type === 'eviction.done') console.log(e.node, e.removals); });
 */
export type EvictionEvent =
  | { readonly type: 'eviction.delegated'; readonly node: string; readonly reason: EvictionReason; readonly evictor: string; readonly at: number }
  | {
      readonly type: 'eviction.done';
      readonly node: string;
      readonly reason: EvictionReason;
      readonly at: number;
      readonly removals: ReadonlyArray<{ readonly group: string; readonly member: string; readonly outcome: MemberRemoval['outcome']; readonly error?: string }>;
    };

/** `down`: declared down; `restarted`: a new incarnation heartbeats under its id (the old one's members are dead). */
export type EvictionReason = 'down' | 'restarted';

/**
 * Options of {@link MemberEviction}.
 *
 * @example
 * new MemberEviction({ tracker, self: 'a', eviction: app.log.groupEviction!(), logger });
 */
export interface MemberEvictionOptions {
  readonly tracker: MemberTracker;
  /** This node's id. */
  readonly self: string;
  readonly eviction: GroupEviction;
  readonly logger: Logger;
  /** Registers `tributary_cluster_evictions_total{outcome}` here. */
  readonly registry?: Registry;
}

/**
 * Removes the consumer-group members of a node the cluster declared down, so that its
 * partitions move at once instead of when its Kafka session expires (30 s by default; at least
 * the broker's `group.min.session.timeout.ms`, 6 s by default).
 *
 * Every node reports its group members in its heartbeat ({@link GroupMembership}). When this
 * node's view declares node X down, the evictor is **the lowest node id (by code units) among
 * the members `alive` in that view**, X excluded: that node, and no other, removes X's members.
 * No message is exchanged to decide: each node decides on its own view. Views can differ for a
 * moment (one node may still suspect another), so two nodes may both decide they are the
 * evictor; removal is idempotent (the second gets `already-gone`), so that is harmless. When
 * the evictor named by a view is not itself declaring X down (it still hears X), nobody evicts,
 * and X's partitions move when its session expires, as without eviction.
 *
 * The same happens when X restarts under the same id before it is declared down (a new
 * incarnation heartbeats): the previous incarnation's members are dead, and removing them lets
 * the rebalance the new one started finish without waiting for their sessions.
 *
 * A node that judges nobody (it cannot hear its own heartbeats, or is off NATS: see
 * {@link MemberTracker}) declares nobody down, so a node cut off from NATS never evicts others.
 * What happens to a node evicted while alive (a false suspicion: paused, or cut off from NATS
 * only) is the log's {@link GroupEviction} contract: fenced, it loses its partitions and joins
 * again as a new member.
 *
 * @example
 * const eviction = new MemberEviction({ tracker, self: 'a', eviction: log.groupEviction!(), logger });
 * eviction.start();
 * eviction.events.subscribe((e) => logger.info(e, 'eviction'));
 * await eviction.stop();
 */
export class MemberEviction {
  private readonly subject = new Subject<EvictionEvent>();
  private readonly last = new Map<string, { incarnation: string; groups: readonly GroupMembership[] }>();
  private subscriptions: Subscription[] = [];
  private inFlight = new Set<Promise<void>>();
  private readonly counter: Counter<'outcome'> | undefined;

  constructor(private readonly options: MemberEvictionOptions) {
    if (options.registry) {
      const name = 'tributary_cluster_evictions_total';
      this.counter =
        (options.registry.getSingleMetric(name) as Counter<'outcome'> | undefined) ??
        new Counter({
          name,
          help: 'Consumer-group members of nodes declared down that this node removed from their groups, by outcome (removed, already-gone, failed).',
          labelNames: ['outcome'],
          registers: [options.registry],
        });
    }
  }

  /** What this node decided and did, per node that went down. */
  get events(): Observable<EvictionEvent> {
    return this.subject.asObservable();
  }

  start(): void {
    const { tracker } = this.options;
    // The last view, so that on a restart the previous incarnation's members are known.
    this.subscriptions.push(tracker.changes.subscribe((view) => this.remember(view)));
    this.subscriptions.push(
      tracker.events.subscribe((event) => {
        if (event.type === 'member.down') {
          this.consider(event.node, 'down', tracker.member(event.node)?.report.groups ?? []);
        } else if (event.type === 'member.restarted') {
          const previous = this.last.get(event.node);
          const current = new Set((tracker.member(event.node)?.report.groups ?? []).map((g) => `${g.group}\u0000${g.member}`));
          const dead = (previous?.groups ?? []).filter((g) => !current.has(`${g.group}\u0000${g.member}`));
          if (dead.length > 0) this.consider(event.node, 'restarted', dead);
        }
      }),
    );
  }

  /** Connects the log's eviction client ahead of need, where it has one. */
  async connect(): Promise<void> {
    await this.options.eviction.connect?.();
  }

  /** Stops watching; waits for removals under way, then closes the log's eviction client. */
  async stop(): Promise<void> {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    await Promise.all([...this.inFlight]);
    await this.options.eviction.close().catch(() => undefined);
    this.subject.complete();
  }

  /** The evictor for `node` in `view`: the lowest id among the members alive in it, `node` excluded. */
  static evictorOf(view: MembershipSnapshot, node: string): string | undefined {
    let evictor: string | undefined;
    for (const m of view.members) {
      if (m.node === node || m.status !== 'alive') continue;
      if (evictor === undefined || m.node < evictor) evictor = m.node;
    }
    return evictor;
  }

  /** The tracker emits `member.restarted` before it publishes the new view: here the old incarnation's groups are still known. */
  private remember(view: MembershipSnapshot): void {
    this.last.clear();
    for (const m of view.members) this.last.set(m.node, { incarnation: m.incarnation, groups: m.report.groups ?? [] });
  }

  private consider(node: string, reason: EvictionReason, groups: readonly GroupMembership[]): void {
    const { tracker, self, logger } = this.options;
    const evictor = MemberEviction.evictorOf(tracker.snapshot(), node);
    const at = Date.now();
    if (evictor !== self) {
      if (evictor !== undefined) this.subject.next({ type: 'eviction.delegated', node, reason, evictor, at });
      return;
    }
    // Never remove a member that a live node reports as its own now.
    const live = new Set(
      tracker
        .snapshot()
        .members.filter((m) => m.node !== node && (m.status === 'alive' || m.status === 'suspected'))
        .flatMap((m) => (m.report.groups ?? []).map((g) => `${g.group}\u0000${g.member}`)),
    );
    const targets = groups.filter((g) => !live.has(`${g.group}\u0000${g.member}`));
    if (targets.length === 0) {
      this.subject.next({ type: 'eviction.done', node, reason, at, removals: [] });
      return;
    }
    const work = this.evict(node, reason, targets).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
    logger.info({ member: node, reason, groups: targets }, 'removing the members of a node gone from their consumer groups (this node is the evictor)');
  }

  private async evict(node: string, reason: EvictionReason, targets: readonly GroupMembership[]): Promise<void> {
    const byGroup = new Map<string, string[]>();
    for (const g of targets) byGroup.set(g.group, [...(byGroup.get(g.group) ?? []), g.member]);
    const removals: Array<{ group: string; member: string; outcome: MemberRemoval['outcome']; error?: string }> = [];
    await Promise.all(
      [...byGroup].map(async ([group, members]) => {
        let results: MemberRemoval[];
        try {
          results = await this.options.eviction.removeMembers(group, members);
        } catch (err) {
          results = members.map((memberId) => ({ memberId, outcome: 'failed' as const, error: err instanceof Error ? err : new Error(String(err)) }));
        }
        for (const r of results) {
          removals.push({ group, member: r.memberId, outcome: r.outcome, ...(r.outcome === 'failed' ? { error: r.error.message } : {}) });
          this.counter?.inc({ outcome: r.outcome });
        }
      }),
    );
    const failed = removals.filter((r) => r.outcome === 'failed');
    if (failed.length > 0) {
      this.options.logger.warn({ member: node, failed }, 'could not remove members of a node gone from their groups: its partitions move when their sessions expire');
    } else {
      this.options.logger.info({ member: node, removals }, 'members of a node gone removed from their consumer groups: its partitions move now');
    }
    this.subject.next({ type: 'eviction.done', node, reason, at: Date.now(), removals });
  }
}
