import type { Subscription } from 'rxjs';
import type { SupervisorEvent } from '../../supervision/supervisor-event.js';
import { boundedTree, MAX_EVENTS_PER_FRAME, pickRows, type ConsoleEvent, type ConsoleFrame, type ConsolePoint, type ConsoleProcessorSummary, type ConsoleRow } from './console-frame.js';
import type { ResolvedConsoleOptions } from './console-options.js';
import { partitionKey, type ConsoleSource } from './console-source.js';

/** What a browser gets when it connects: the current frame (with the tree) and the plots' history. */
export interface ConsoleHello {
  readonly frame: ConsoleFrame;
  readonly history: readonly ConsolePoint[];
}

/** The most history points kept (and sent on connect), whatever `historyMinutes` and the interval. */
export const MAX_HISTORY_POINTS = 600;

/**
 * Samples a {@link ConsoleSource} once per `intervalMs` into a {@link ConsoleFrame}: records/s
 * from how far each partition's position moved since the last sample, lag, backpressure, the
 * supervision events of the interval, and one plot point. One sampler serves every browser:
 * a sample costs O(partitions) whatever the number of browsers, and what is sent is bounded
 * (see {@link ConsoleFrame}).
 *
 * @example
 * const sampler = new ConsoleSampler(source, resolveConsoleOptions(true));
 * const frame = await sampler.sample();
 * frame.rows.length; // <= 100
 */
export class ConsoleSampler {
  private readonly positions = new Map<string, { position: number; at: number }>();
  private readonly backpressured = new Set<string>();
  private readonly pendingEvents: ConsoleEvent[] = [];
  private droppedEvents = 0;
  private readonly history: ConsolePoint[] = [];
  private readonly counterTrail: Array<{ t: number; dead: number; late: number }> = [];
  private readonly subscriptions: Subscription[] = [];
  private lastTreeJson: string | undefined;
  private lastTree: ConsoleFrame['tree'];
  private latest: ConsoleFrame | undefined;
  private allRows: readonly ConsoleRow[] = [];
  private readonly historyStepMs: number;

  constructor(
    private readonly source: ConsoleSource,
    private readonly options: ResolvedConsoleOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.historyStepMs = Math.max(options.intervalMs, Math.ceil((options.historyMinutes * 60_000) / MAX_HISTORY_POINTS));
    this.subscriptions.push(
      source.supervision.subscribe((event) => this.onSupervisorEvent(event)),
      source.backpressure.subscribe((e) => {
        const key = partitionKey(e.processor, e.topic, e.partition);
        if (e.paused) this.backpressured.add(key);
        else this.backpressured.delete(key);
      }),
    );
  }

  /** Stops listening to the source's events. */
  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  /** The plots' history, oldest first (at most {@link MAX_HISTORY_POINTS}). */
  historyPoints(): readonly ConsolePoint[] {
    return this.history;
  }

  /** The last frame sampled, with the full (bounded) tree, for a browser that just connected. */
  hello(): ConsoleHello | undefined {
    if (!this.latest) return undefined;
    return { frame: { ...this.latest, tree: this.lastTree }, history: this.history };
  }

  /**
   * Rows of the last sample, all of them, filtered (`processor` exact, `q` a substring of
   * `processor/topic/partition` or the node) and paged: for browsing beyond the live update's rows.
   */
  rowsPage(query: { processor?: string; q?: string; offset: number; limit: number }): { total: number; rows: ConsoleRow[] } {
    const q = query.q?.toLowerCase();
    const matching = this.allRows.filter(
      (r) => (query.processor === undefined || r.processor === query.processor) && (!q || `${r.processor}/${r.topic}/${r.partition} ${r.node}`.toLowerCase().includes(q)),
    );
    const sorted = pickRows(matching, matching.length);
    return { total: matching.length, rows: sorted.slice(query.offset, query.offset + query.limit) };
  }

  /** Takes one sample: the frame to send to every browser now. */
  async sample(): Promise<ConsoleFrame> {
    const t = this.now();
    const [lag, counters] = await Promise.all([this.source.lag(), this.source.counters()]);
    const node = this.source.nodeId();
    const rows: ConsoleRow[] = [];
    const processors: ConsoleProcessorSummary[] = [];
    const seen = new Set<string>();
    const local = new Set<string>();
    for (const processor of this.source.processors()) {
      let running = 0;
      let lagSum = 0;
      let rateSum = 0;
      let inFlight = 0;
      let restarts = 0;
      for (const p of processor.partitions) {
        const key = partitionKey(processor.id, p.topic, p.partition);
        seen.add(key);
        local.add(key);
        const partitionLag = lag.get(key) ?? 0;
        let rate = 0;
        if (p.position !== undefined) {
          const before = this.positions.get(key);
          if (before && t > before.at && p.position >= before.position) rate = ((p.position - before.position) * 1_000) / (t - before.at);
          this.positions.set(key, { position: p.position, at: t });
        }
        if (p.state.startsWith('running')) running++;
        lagSum += partitionLag;
        rateSum += rate;
        inFlight += p.pending;
        restarts += p.restarts;
        rows.push({
          processor: processor.id,
          topic: p.topic,
          partition: p.partition,
          node,
          state: p.state,
          committed: p.committed,
          end: p.position === undefined ? undefined : p.position + partitionLag,
          lag: partitionLag,
          watermark: p.watermark === undefined || !Number.isFinite(p.watermark) ? null : p.watermark,
          rate: Math.round(rate * 10) / 10,
          inFlight: p.pending,
          paused: processor.paused || this.backpressured.has(key),
          restarts: p.restarts,
          ...(p.stores ? { storeKeys: Object.values(p.stores).reduce((sum, n) => sum + n, 0) } : {}),
          ...(p.restoring ? { restoring: `${p.restoring.store} ${p.restoring.position}/${p.restoring.until}` } : {}),
        });
      }
      processors.push({ id: processor.id, paused: processor.paused, partitions: processor.partitions.length, running, lag: lagSum, rate: Math.round(rateSum * 10) / 10, inFlight, restarts });
    }
    for (const key of this.positions.keys()) if (!seen.has(key)) this.positions.delete(key);
    const membership = this.source.membership();
    if (membership) {
      for (const owner of membership.owners) {
        const key = partitionKey(owner.processor, owner.topic, owner.partition);
        if (local.has(key) || owner.node === node) continue;
        rows.push({ processor: owner.processor, topic: owner.topic, partition: owner.partition, node: owner.node, state: owner.state });
      }
    }
    const point = this.point(t, processors, counters);
    const tree = boundedTree(this.source.supervisionTree(), this.options.maxChildren);
    const treeJson = JSON.stringify(tree);
    const treeChanged = treeJson !== this.lastTreeJson;
    this.lastTreeJson = treeJson;
    this.lastTree = tree;
    const events = this.pendingEvents.splice(0);
    if (this.droppedEvents > 0) {
      events.push({ at: t, type: 'console.events-dropped', supervisor: '', message: `${this.droppedEvents} more events in this interval` });
      this.droppedEvents = 0;
    }
    const frame: ConsoleFrame = {
      at: t,
      node,
      state: this.source.state(),
      intervalMs: this.options.intervalMs,
      control: this.options.controlToken !== undefined,
      processors,
      rows: pickRows(rows, this.options.maxRows),
      totalRows: rows.length,
      ...(treeChanged ? { tree } : {}),
      events,
      point,
      ...(membership
        ? {
            cluster: {
              self: membership.self,
              members: membership.members.slice(0, 256),
              // Owners are in the rows already; the page needs only who owns how many.
              owners: [],
              ownersOmitted: membership.owners.length,
            },
          }
        : {}),
    };
    this.latest = frame;
    this.allRows = rows;
    return frame;
  }

  private point(t: number, processors: readonly ConsoleProcessorSummary[], counters: { deadLetters: number; late: number }): ConsolePoint {
    this.counterTrail.push({ t, dead: counters.deadLetters, late: counters.late });
    while (this.counterTrail.length > 1 && this.counterTrail[0].t < t - 60_000) this.counterTrail.shift();
    const first = this.counterTrail[0];
    const point: ConsolePoint = {
      t,
      rate: Object.fromEntries(processors.map((p) => [p.id, p.rate])),
      lag: Object.fromEntries(processors.map((p) => [p.id, p.lag])),
      deadPerMin: counters.deadLetters - first.dead,
      latePerMin: counters.late - first.late,
    };
    const last = this.history[this.history.length - 1];
    if (!last || t - last.t >= this.historyStepMs) {
      this.history.push(point);
      if (this.history.length > MAX_HISTORY_POINTS) this.history.shift();
    }
    return point;
  }

  private onSupervisorEvent(event: SupervisorEvent): void {
    if (this.pendingEvents.length >= MAX_EVENTS_PER_FRAME) {
      this.droppedEvents++;
      return;
    }
    const error = 'error' in event && event.error instanceof Error ? event.error : undefined;
    this.pendingEvents.push({
      at: event.at,
      type: event.type,
      supervisor: event.supervisor,
      ...('child' in event ? { child: event.child } : {}),
      ...('path' in event && typeof event.path === 'string' ? { path: event.path } : {}),
      ...(error ? { message: `${error.name}: ${error.message}`.slice(0, 500) } : {}),
    });
  }
}
