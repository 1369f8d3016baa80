import type { Observable } from 'rxjs';
import type { SupervisorEvent } from '../../supervision/supervisor-event.js';
import type { SupervisorSnapshot } from '../../supervision/supervisor-snapshot.js';

/** One assigned partition's live figures, as the console reads them. */
export interface ConsolePartitionGauges {
  readonly topic: string;
  readonly partition: number;
  readonly state: string;
  readonly committed: number;
  /** The next offset the pipeline takes; undefined while no actor runs. */
  readonly position: number | undefined;
  readonly watermark: number | undefined;
  readonly pending: number;
  readonly restarts: number;
  /** Keys per store, when the partition has stores. */
  readonly stores?: Readonly<Record<string, number>>;
  /** While its stores are restored: the store, records read so far, and its position of `until`. */
  readonly restoring?: { readonly store: string; readonly records: number; readonly position: number; readonly until: number };
}

/** One processor (or repartition stage) on this node. */
export interface ConsoleProcessor {
  readonly id: string;
  readonly paused: boolean;
  readonly partitions: readonly ConsolePartitionGauges[];
}

/** A member of the cluster as the console shows it (from the membership view, gathered over NATS heartbeats). */
export interface ConsoleMember {
  readonly node: string;
  readonly status: string;
  readonly self: boolean;
  readonly state: string;
  readonly healthy: boolean;
  readonly lastHeardAt: number;
  readonly partitions: number;
}

/** The cluster as the console shows it. */
export interface ConsoleMembership {
  readonly self: string;
  readonly members: readonly ConsoleMember[];
  /** Who owns which partition. */
  readonly owners: ReadonlyArray<{ readonly processor: string; readonly topic: string; readonly partition: number; readonly node: string; readonly state: string }>;
}

/** A partition's backpressure changed (from the app's lifecycle events). */
export interface ConsoleBackpressureEvent {
  readonly processor: string;
  readonly topic: string;
  readonly partition: number;
  readonly paused: boolean;
}

/** A control action from the console. */
export type ConsoleAction = 'pause' | 'resume' | 'drain';

/**
 * Everything the web console reads, and the one thing it may do (control, guarded by a token).
 * The app builds it (`src/app/app-console-source.ts`); tests give a fake one, e.g. with 1,000
 * partitions. Every read is cheap and local: no I/O per update.
 *
 * @example
 * const source: ConsoleSource = appConsoleSource(app, { secrets: [] });
 * source.processors().flatMap((p) => p.partitions).length;
 */
export interface ConsoleSource {
  /** This node's id (the cluster's node id, or `local`). */
  nodeId(): string;
  state(): string;
  supervisionTree(): SupervisorSnapshot;
  processors(): readonly ConsoleProcessor[];
  /** Records after the last one taken, per `processor/topic/partition`. */
  lag(): Promise<ReadonlyMap<string, number>>;
  /** Dead letters and late records so far (all processors). */
  counters(): Promise<{ readonly deadLetters: number; readonly late: number }>;
  /** The cluster's membership view; undefined without `cluster`. */
  membership(): ConsoleMembership | undefined;
  readonly supervision: Observable<SupervisorEvent>;
  readonly backpressure: Observable<ConsoleBackpressureEvent>;
  /** Runs a control action (cluster-wide with a cluster); resolves to what to show. */
  control(action: ConsoleAction, processor: string): Promise<unknown>;
  /** Strings never to show (SASL passwords, NATS credentials): replaced in everything sent. */
  readonly secrets: readonly string[];
}

/** The key of a partition in maps: `processor/topic/partition`. */
export function partitionKey(processor: string, topic: string, partition: number): string {
  return `${processor}/${topic}/${partition}`;
}
