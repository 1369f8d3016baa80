import type { Observable } from 'rxjs';
import { TributaryError } from '../errors.js';
import type { Logger } from 'pino';
import type { LogConnector } from '../connectors/log.js';
import type { HealthReport } from '../observability/http-endpoint.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { LifecycleEvent } from '../processor/lifecycle-event.js';
import type { ProcessorRuntime } from '../processor/processor-runtime.js';
import type { SupervisorSnapshot } from '../supervision/supervisor-snapshot.js';

/**
 * What a cluster node needs of the app it serves: the part of `Tributary` that membership,
 * control and queries read. Defined here, below the app, so that the cluster never imports the
 * app that creates it; a `Tributary` is one.
 *
 * @example
 * const node = new ClusterNode({ app: createTributary({ processors: [pageViews] }), servers, cluster: 'shop' });
 */
export interface ClusterHost {
  readonly log: LogConnector;
  readonly metrics: TributaryMetrics;
  readonly logger: Logger;
  /** Every processor's and partition actor's lifecycle events. */
  readonly lifecycle: Observable<LifecycleEvent>;
  /** The supervision tree now: who supervises whom, states, restart counts, last errors. */
  supervisionTree(): SupervisorSnapshot;
  /** Health as `/health` reports it. */
  health(): HealthReport;
  /** The runtime of a processor (or of a repartition stage, `<processor>-<name>`), by id. */
  processor(id: string): ProcessorRuntime;
  /** What this node runs now: processors, their partitions (state, committed offset, in flight, restarts), paused or not. */
  status(): NodeStatus;
}

/**
 * A node's status, for status pages and the cluster.
 *
 * @example
 * const { processors } = app.status(); // [{ id: 'page-views', paused: false, partitions: [...] }]
 */
export interface NodeStatus {
  readonly state: string;
  readonly healthy: boolean;
  readonly processors: ReadonlyArray<{
    readonly id: string;
    readonly paused: boolean;
    readonly partitions: ReturnType<ProcessorRuntime['status']>;
    /** Partitions this node keeps warm standbys of (`standbyReplicas`), with their lag. */
    readonly standbys?: ReturnType<ProcessorRuntime['standbyStatus']>;
  }>;
}

/** The runtime of `processor` on this node, or undefined when the node does not run it. */
export function runtimeOn(app: ClusterHost, processor: string): ProcessorRuntime | undefined {
  try {
    return app.processor(processor);
  } catch (err) {
    if (err instanceof TributaryError) return undefined;
    throw err;
  }
}
