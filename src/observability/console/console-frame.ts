import type { ChildSnapshot, SupervisorSnapshot } from '../../supervision/supervisor-snapshot.js';
import type { ConsoleMembership } from './console-source.js';

/** One row of the partition table. Offsets and figures are absent for a partition another node owns. */
export interface ConsoleRow {
  readonly processor: string;
  readonly topic: string;
  readonly partition: number;
  readonly node: string;
  readonly state: string;
  readonly committed?: number;
  /** The partition's end offset as last fetched (position + lag). */
  readonly end?: number;
  readonly lag?: number;
  /** Event time, ms; null before the first record. */
  readonly watermark?: number | null;
  readonly rate?: number;
  readonly inFlight?: number;
  /** Fetch paused by backpressure, or the processor paused. */
  readonly paused?: boolean;
  readonly restarts?: number;
  /** Keys in the partition's stores, all together. */
  readonly storeKeys?: number;
  /** While its stores are restored: `store position/until`. */
  readonly restoring?: string;
}

/** One processor's totals over all its partitions on this node (never capped). */
export interface ConsoleProcessorSummary {
  readonly id: string;
  readonly paused: boolean;
  readonly partitions: number;
  readonly running: number;
  readonly lag: number;
  readonly rate: number;
  readonly inFlight: number;
  readonly restarts: number;
}

/** A child in the console's tree. */
export interface ConsoleTreeChild {
  readonly id: string;
  readonly path: string;
  readonly state: string;
  readonly restarts: number;
  readonly lastError?: { readonly name: string; readonly message: string; readonly at: number };
  readonly supervisor?: ConsoleTree;
}

/** A supervisor in the console's tree: its children capped at `maxChildren`, the rest counted by state. */
export interface ConsoleTree {
  readonly name: string;
  readonly path: string;
  readonly state: string;
  readonly strategy: string;
  readonly recentRestarts: number;
  readonly intensity: number;
  readonly periodMs: number;
  readonly healthy: boolean;
  readonly reason?: string;
  readonly children: readonly ConsoleTreeChild[];
  /** Children not listed, by state (e.g. `{ running: 950 }`). */
  readonly omitted: Readonly<Record<string, number>>;
}

/** A supervision event, as the page shows (and flashes) it. */
export interface ConsoleEvent {
  readonly at: number;
  readonly type: string;
  readonly supervisor: string;
  readonly child?: string;
  readonly path?: string;
  readonly message?: string;
}

/** One point of the plots. */
export interface ConsolePoint {
  readonly t: number;
  /** Records/s and lag per processor. */
  readonly rate: Readonly<Record<string, number>>;
  readonly lag: Readonly<Record<string, number>>;
  /** Dead letters and late records in the minute before `t`. */
  readonly deadPerMin: number;
  readonly latePerMin: number;
}

/**
 * One live update, as sent to every browser (JSON). Its size is bounded whatever the partition
 * count: at most `maxRows` rows, `maxChildren` children per supervisor, 50 events, one plot point,
 * one line per cluster member; `tree` only when it changed since the last update.
 */
export interface ConsoleFrame {
  readonly at: number;
  readonly node: string;
  readonly state: string;
  readonly intervalMs: number;
  /** Whether the control buttons work (a token is set). */
  readonly control: boolean;
  readonly processors: readonly ConsoleProcessorSummary[];
  readonly rows: readonly ConsoleRow[];
  /** Partitions in the table in all (rows sent plus rows left out). */
  readonly totalRows: number;
  readonly tree?: ConsoleTree;
  readonly events: readonly ConsoleEvent[];
  readonly point: ConsolePoint;
  readonly cluster?: ConsoleMembership & { readonly ownersOmitted: number };
}

/** The most events one update carries (older ones of the same interval are left out). */
export const MAX_EVENTS_PER_FRAME = 50;

// Plain code-unit order: localeCompare would cost more than the rest of a sample at 10,000 rows.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const stateRank = (state: string): number => (state === 'escalated' ? 0 : state === 'failed' ? 1 : state.startsWith('running') ? 4 : state === 'stopped' ? 3 : 2);

/**
 * The `maxRows` most interesting rows, in table order: partitions not running first (failed,
 * restarting, starting), then those that restarted, then by lag, most first; ties by name.
 *
 * @example
 * pickRows(rows, 100).length; // <= 100
 */
export function pickRows(rows: readonly ConsoleRow[], maxRows: number): ConsoleRow[] {
  const sorted = [...rows].sort(
    (a, b) =>
      stateRank(a.state) - stateRank(b.state) ||
      Number((b.restarts ?? 0) > 0) - Number((a.restarts ?? 0) > 0) ||
      (b.lag ?? 0) - (a.lag ?? 0) ||
      compare(a.processor, b.processor) ||
      compare(a.topic, b.topic) ||
      a.partition - b.partition,
  );
  return sorted.slice(0, maxRows);
}

/**
 * The supervision tree for the page: every supervisor, and per supervisor at most `maxChildren`
 * children (not running or restarted first, then in their order), the others counted by state.
 *
 * @example
 * boundedTree(app.supervisionTree(), 50).children.length; // <= 50
 */
export function boundedTree(snapshot: SupervisorSnapshot, maxChildren: number): ConsoleTree {
  const interesting = (c: ChildSnapshot): number => (c.state !== 'running' ? 0 : c.restarts > 0 || c.lastError ? 1 : 2);
  const order = snapshot.children.map((child, index) => ({ child, index }));
  order.sort((a, b) => (a.child.supervisor ? -1 : 0) - (b.child.supervisor ? -1 : 0) || interesting(a.child) - interesting(b.child) || a.index - b.index);
  const shown = order.slice(0, maxChildren).sort((a, b) => a.index - b.index);
  const omitted: Record<string, number> = {};
  for (const { child } of order.slice(maxChildren)) omitted[child.state] = (omitted[child.state] ?? 0) + 1;
  return {
    name: snapshot.name,
    path: snapshot.path,
    state: snapshot.state,
    strategy: snapshot.strategy,
    recentRestarts: snapshot.recentRestarts,
    intensity: snapshot.intensity,
    periodMs: snapshot.periodMs,
    healthy: snapshot.health.healthy,
    ...(snapshot.health.reason ? { reason: snapshot.health.reason } : {}),
    children: shown.map(({ child }) => ({
      id: child.id,
      path: child.path,
      state: child.state,
      restarts: child.restarts,
      ...(child.lastError ? { lastError: { name: child.lastError.name, message: child.lastError.message.slice(0, 500), at: child.lastError.at } } : {}),
      ...(child.supervisor ? { supervisor: boundedTree(child.supervisor, maxChildren) } : {}),
    })),
    omitted,
  };
}
