import { filter, map, type Observable } from 'rxjs';
import type { ClusterHost } from '../cluster/cluster-host.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { ConsoleAction, ConsoleBackpressureEvent, ConsoleMembership, ConsolePartitionGauges, ConsoleSource } from '../observability/console/console-source.js';
import { partitionKey } from '../observability/console/console-source.js';
import type { SupervisorEvent } from '../supervision/supervisor-event.js';

/** What the console reads of the app it shows: a `Tributary` is one. */
export interface ConsoleHost extends ClusterHost {
  readonly supervision: Observable<SupervisorEvent>;
  readonly cluster: ClusterNode | undefined;
}

/**
 * The web console's view of a running app: its status, supervision tree, metrics and, with a
 * cluster, the membership view (kept by NATS heartbeats, so reading it costs no messages).
 * Control actions go cluster-wide with a cluster (every node running the processor), else to
 * this node's processor.
 *
 * @example
 * const source = appConsoleSource(app, { secrets: secretsIn(options.cluster?.auth) });
 */
export function appConsoleSource(app: ConsoleHost, options: { readonly secrets: readonly string[] }): ConsoleSource {
  const ownProcessors = (): Set<string> => new Set(app.status().processors.map((p) => p.id));
  return {
    nodeId: () => app.cluster?.members().self ?? 'local',
    state: () => app.status().state,
    supervisionTree: () => app.supervisionTree(),
    processors: () =>
      app.status().processors.map((p) => {
        let partitions: readonly ConsolePartitionGauges[];
        try {
          partitions = app.processor(p.id).gauges();
        } catch {
          partitions = [];
        }
        return { id: p.id, paused: p.paused, partitions };
      }),
    async lag() {
      const lags = new Map<string, number>();
      for (const v of (await app.metrics.lag.get()).values) {
        lags.set(partitionKey(String(v.labels.processor), String(v.labels.topic), Number(v.labels.partition)), v.value);
      }
      return lags;
    },
    async counters() {
      const own = ownProcessors();
      const sum = (values: ReadonlyArray<{ labels: Partial<Record<string, string | number>>; value: number }>): number =>
        values.reduce((total, v) => (own.has(String(v.labels.processor)) ? total + v.value : total), 0);
      const [dead, late] = await Promise.all([app.metrics.deadLetters.get(), app.metrics.lateRecords.get()]);
      return { deadLetters: sum(dead.values), late: sum(late.values) };
    },
    membership(): ConsoleMembership | undefined {
      const cluster = app.cluster;
      if (!cluster) return undefined;
      const view = cluster.members();
      return {
        self: view.self,
        members: view.members.map((m) => ({
          node: m.node,
          status: m.status,
          self: m.self,
          state: m.report.state,
          healthy: m.report.healthy,
          lastHeardAt: m.lastHeardAt,
          partitions: m.report.processors.reduce((n, p) => n + p.partitions.length, 0),
        })),
        owners: view.partitions,
      };
    },
    supervision: app.supervision,
    backpressure: app.lifecycle.pipe(
      filter((e) => e.type === 'partition.paused' || e.type === 'partition.resumed' || e.type === 'partition.started' || e.type === 'partition.stopped'),
      map((e) => {
        const p = e;
        return { processor: p.processor, topic: p.topic, partition: p.partition, paused: e.type === 'partition.paused' } satisfies ConsoleBackpressureEvent;
      }),
    ),
    async control(action: ConsoleAction, processor: string) {
      const cluster = app.cluster;
      if (cluster) {
        const outcome = await cluster[action](processor);
        return { replies: outcome.replies, missing: outcome.missing };
      }
      const runtime = app.processor(processor);
      if (action === 'pause') runtime.pause();
      else if (action === 'resume') runtime.resume();
      else await runtime.stop();
      return { node: 'local', paused: runtime.isPaused };
    },
    secrets: options.secrets,
  };
}
