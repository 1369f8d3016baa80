import { merge, Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { ClusterHost } from '../cluster/cluster-host.js';
import { ClusterNode, type ClusterNodeOptions } from '../cluster/cluster-node.js';
import type { LogConnector, LogProducer } from '../connectors/log.js';
import { MemoryLog } from '../connectors/memory/index.js';
import { ConfigError, TributaryError } from '../errors.js';
import { startHttpEndpoint, type HttpEndpoint } from '../observability/http-endpoint.js';
import { resolveConsoleOptions, type ConsoleOptions } from '../observability/console/console-options.js';
import { secretsIn } from '../observability/console/redact.js';
import { CONSOLE_PATH, startWebConsole, type WebConsole } from '../observability/console/web-console.js';
import { EventLoopLag } from '../observability/event-loop-lag.js';
import { createLogger } from '../observability/logger.js';
import { TributaryMetrics } from '../observability/metrics.js';
import type { ProcessorDefinition } from '../processor/define-processor.js';
import type { LifecycleEvent } from '../processor/lifecycle-event.js';
import { ProcessorRuntime } from '../processor/processor-runtime.js';
import { expandStages } from '../processor/expand-stages.js';
import type { BackoffOptions } from '../supervision/backoff.js';
import { systemClock, type SupervisorClock } from '../supervision/clock.js';
import { countSupervisorEvents } from '../supervision/count-supervisor-events.js';
import type { SupervisorEvent, EscalationPolicy } from '../supervision/supervisor-event.js';
import { Supervisor } from '../supervision/supervisor.js';
import { appConsoleSource } from './app-console-source.js';
import { queryState, scanState, type StateQueryAnswer } from './state-query.js';
import type { ScanOptions, StateScanAnswer } from '../processor/store-scan.js';
import type { QueryOptions } from '../cluster/queries.js';

/** Options of {@link createTributary}. */
export interface TributaryOptions {
  /** The log to run on. Default: a new embedded {@link MemoryLog}. */
  readonly log?: LogConnector;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly processors: readonly ProcessorDefinition<any, any>[];
  /** Default: {@link createLogger}(). */
  readonly logger?: Logger;
  /** Default: metrics in a registry of their own. */
  readonly metrics?: TributaryMetrics;
  /** Serve `/metrics` and `/health` on this port (0: any free port). Default: no HTTP server. */
  readonly httpPort?: number;
  /**
   * Serve the live web console at `/ui/` on the HTTP port (`httpPort`, or any free port when
   * `httpPort` is not given): the supervision tree, the partitions, plots of records/s and lag,
   * the cluster with `cluster`. Read-only unless `controlToken` is set. Default: off.
   */
  readonly ui?: boolean | ConsoleOptions;
  /** Stop gracefully on SIGTERM and SIGINT. Default false (the embedding service decides). */
  readonly shutdownOnSignals?: boolean;
  /**
   * Join a cluster over NATS: a {@link ClusterNode} started after the processors and stopped
   * after them (it keeps answering while partitions drain, and leaves last, also on SIGTERM).
   * Default: no cluster.
   */
  readonly cluster?: Omit<ClusterNodeOptions, 'app'>;
  /**
   * The time of supervision (backoff, intensity), commit intervals, lifecycle events and
   * processing-time operators. Default: the system clock. `tributary/testing` gives a
   * `SimulatedClock`, so that a test moves wall-clock time explicitly.
   */
  readonly clock?: SupervisorClock;
  /** The random source of the restart backoff's jitter. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * The directory where stores on `'lmdb'` (a processor's `stores` option) keep their local
   * copies, one LMDB environment per processor (`<stateDir>/<processor id>`). One node per
   * directory. Default: none (a processor with an `'lmdb'` store then fails to start).
   */
  readonly stateDir?: string;
  /** How long `stop()` may take before it gives up waiting. Default 30,000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** Delay between restarts of a failed partition actor. Default 100 ms doubling to 10 s. */
  readonly restartBackoff?: BackoffOptions;
  /**
   * Supervision: each processor's supervisor restarts its partition actors (one-for-one) at most
   * `intensity` times within `periodMs` (default 20 within 60,000 ms), else it stops them and
   * fails to the node supervisor, which restarts it (at most 3 times within 5,000 ms). Beyond
   * that the node gives up: `onEscalation: 'stay-down'` (default) keeps the process up with
   * `/health` failing and an error logged; `'exit'` exits the process with code 1 so that an
   * orchestrator restarts it.
   */
  readonly supervision?: {
    readonly intensity?: number;
    readonly periodMs?: number;
    readonly onEscalation?: EscalationPolicy;
    /** How `'exit'` exits. Default `process.exit`. */
    readonly exit?: (code: number) => void;
    /**
     * `/health` fails once a connector (a processor's Kafka group member, the NATS connection)
     * has been down this long, restarting all the while (e.g. the broker unreachable). Default
     * 60,000 ms: short outages are ridden out without an orchestrator restarting the process.
     */
    readonly connectorDownHealthMs?: number;
    /**
     * The liveness watchdog: a partition with records taken whose results are not acknowledged,
     * and no progress (nothing acknowledged, nothing committed) for this long, is failed and
     * restarted by its supervisor (same intensity and backoff), replaying from its committed
     * offset. Default 60,000 ms; `Infinity` turns it off.
     */
    readonly stallTimeoutMs?: number;
    /** Delay between restarts of a crashed connector. Default 200 ms doubling to 10 s (±20%). */
    readonly connectorBackoff?: BackoffOptions;
  };
}

/** A running tributary node: its processors, metrics, and lifecycle. */
export interface Tributary extends ClusterHost {
  /** Every supervisor's events, in the whole tree (child failed, restarting in N ms, escalated, gave up). */
  readonly supervision: Observable<SupervisorEvent>;
  /** `http://host:port` of the `/metrics` + `/health` endpoint, when `httpPort` was given. */
  readonly httpUrl: string | undefined;
  /** `http://host:port/ui/`, the web console, when `ui` was given. */
  readonly consoleUrl: string | undefined;
  /** This node's cluster membership, when `cluster` was given (created at `start()`). */
  readonly cluster: ClusterNode | undefined;
  start(): Promise<void>;
  /** Stops fetching, drains in-flight records, flushes sinks, commits, leaves the groups. */
  stop(): Promise<void>;
  /**
   * Interactive query: `key` in the store (or `ctx.queryable` state) `store` of `processor`,
   * from the partition the key maps to; with `cluster`, routed to that partition's owner. See
   * {@link queryState}.
   *
   * @example
   * const { found, value } = await app.query('clicks-per-user', 'clicks-per-user', 'user-1');
   */
  query(processor: string, store: string, key: string, options?: QueryOptions): Promise<StateQueryAnswer>;
  /**
   * Range or full scan of the store `store` of `processor` over all its partitions, sorted by
   * key: `{ from, to }` (inclusive, either may be left out), at most `limit` rows (default
   * 1,000; `truncated` says there were more). With `cluster`, every node running the processor
   * answers for its partitions; a partition without an answer fails the scan, naming it. See
   * {@link scanState}.
   *
   * @example
   * const { rows } = await app.scan('totals', 'totals', { from: 'customer-1', to: 'customer-2' });
   */
  scan(processor: string, store: string, options?: ScanOptions & QueryOptions): Promise<StateScanAnswer>;
  /**
   * For finite inputs (files, tests): processes everything now in the source topics, then ends
   * the input of every processor and stage in order (watermark +∞: every window fires), and
   * waits until every result is acknowledged and committed. Stop the app next.
   */
  finishInput(options?: { timeoutMs?: number }): Promise<void>;
}

export type { NodeStatus } from '../cluster/cluster-host.js';

/**
 * Creates a tributary node running `processors` on `log` (the embedded MemoryLog by default).
 * Processor definitions are validated now; nothing connects until `start()`.
 *
 * @example
 * const app = createTributary({ processors: [pageViews] }); // embedded MemoryLog
 * await app.start();
 * app.lifecycle.subscribe((e) => console.log(e.type));
 * process.on('SIGTERM', () => void app.stop());
 */
export function createTributary(options: TributaryOptions): Tributary {
  if (!options || !Array.isArray(options.processors) || options.processors.length === 0) {
    throw new ConfigError('processors', 'give at least one processor definition');
  }
  const log = options.log ?? new MemoryLog();
  const logger = options.logger ?? createLogger();
  const metrics = options.metrics ?? new TributaryMetrics();
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  let producer: LogProducer | undefined;
  let runtimes: ProcessorRuntime[] = [];
  // Each repartition stage runs as a processor of its own, after the one that feeds it.
  const definitions = options.processors.flatMap(expandStages);
  const ids = new Set<string>();
  for (const p of definitions) {
    if (ids.has(p.id)) throw new ConfigError('processors', `two processors (or repartition stages) have the id '${p.id}'`);
    ids.add(p.id);
  }
  const lifecycle = new Subject<LifecycleEvent>();
  let http: HttpEndpoint | undefined;
  let webConsole: WebConsole | undefined;
  const consoleOptions = options.ui ? resolveConsoleOptions(options.ui) : undefined;
  let clusterNode: ClusterNode | undefined;
  const node = new Supervisor({
    name: 'node',
    logger,
    onEscalation: options.supervision?.onEscalation ?? 'stay-down',
    exit: options.supervision?.exit,
    clock: options.clock,
    random: options.random,
  });
  const clock = options.clock ?? systemClock;
  const eventLoopLag = new EventLoopLag(metrics.eventLoopLag);
  countSupervisorEvents(node.events, metrics.supervisorEvents);
  // The clients of the outside world (each processor's Kafka group member; the cluster's NATS
  // connection), restarted with backoff when they crash: 200 ms doubling to 10 s, so that a
  // broker down for minutes is retried every 10 s and never exceeds the intensity (20 within
  // 60 s); only a client that fails over and over right after starting escalates to the node.
  const connectors = new Supervisor({
    name: 'connectors',
    flags: { strategy: 'one-for-one', intensity: 20, periodMs: 60_000, backoff: options.supervision?.connectorBackoff ?? { minMs: 200, maxMs: 10_000 } },
  });
  // Since when each connector has not been running (failed, waiting for its restart).
  const connectorDownSince = new Map<string, number>();
  connectors.events.subscribe((event) => {
    if (event.type === 'supervisor.child-failed' && !connectorDownSince.has(event.child)) connectorDownSince.set(event.child, clock.now());
    if (event.type === 'supervisor.child-started' || event.type === 'supervisor.child-stopped') connectorDownSince.delete(event.child);
  });
  const connectorDownHealthMs = options.supervision?.connectorDownHealthMs ?? 60_000;
  if (!Number.isSafeInteger(connectorDownHealthMs) || connectorDownHealthMs <= 0) {
    throw new ConfigError('supervision.connectorDownHealthMs', `must be a positive integer number of milliseconds, got ${String(connectorDownHealthMs)}`);
  }
  let state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' = 'created';
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received: stopping gracefully');
    void app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'graceful stop failed');
        process.exit(1);
      },
    );
  };

  const app: Tributary = {
    log,
    metrics,
    logger,
    lifecycle: lifecycle.asObservable(),
    supervision: node.events,
    supervisionTree: () => node.snapshot(),
    get httpUrl() {
      return http?.url;
    },
    get consoleUrl() {
      return webConsole && http ? `${http.url}${CONSOLE_PATH}/` : undefined;
    },
    get cluster() {
      return clusterNode;
    },
    async start() {
      if (state !== 'created') throw new TributaryError(`cannot start: the app is ${state}`);
      state = 'starting';
      producer = log.producer();
      runtimes = definitions.map(
        (definition) =>
          new ProcessorRuntime(definition, {
            log,
            producer: producer!,
            metrics,
            logger,
            restartBackoff: options.restartBackoff,
            intensity: options.supervision?.intensity,
            periodMs: options.supervision?.periodMs,
            clock: options.clock,
            stallTimeoutMs: options.supervision?.stallTimeoutMs,
            stateDir: options.stateDir,
          }),
      );
      merge(...runtimes.map((r) => r.lifecycle)).subscribe(lifecycle);
      eventLoopLag.start();
      await node.start();
      await node.startChild(connectors.asChild({ shutdownTimeoutMs }));
      for (const runtime of runtimes) await node.startChild(runtime.supervisor.asChild({ shutdownTimeoutMs }));
      for (const runtime of runtimes) await runtime.start(connectors);
      if (!options.cluster) {
        for (const r of runtimes) if (r.processor.standbyReplicas > 0) logger.warn({ processor: r.processor.id }, 'standbyReplicas is set but the app has no cluster: standbys are placed from the cluster view, so there are none');
      }
      if (options.cluster) {
        clusterNode = new ClusterNode({ ...options.cluster, app });
        await clusterNode.start(); // a first connection that fails (unreachable, refused) fails the start
        await connectors.startChild(clusterNode.connectionChild());
        for (const runtime of runtimes) runtime.followStandbys(clusterNode.membership);
      }
      if (consoleOptions) {
        // Never shown: Kafka SASL and TLS secrets, NATS credentials.
        const secrets = [...secretsIn((log as { options?: unknown }).options), ...secretsIn({ auth: options.cluster?.auth, tls: options.cluster?.tls, connectionOptions: options.cluster?.connectionOptions })];
        webConsole = startWebConsole(appConsoleSource(app, { secrets }), consoleOptions, logger.child({ component: 'console' }));
      }
      if (options.httpPort !== undefined || webConsole) {
        const routes = webConsole ? webConsole.handle.bind(webConsole) : undefined;
        http = await startHttpEndpoint({ port: options.httpPort ?? 0, registry: metrics.registry, health: () => app.health(), routes });
        logger.info({ url: http.url }, 'metrics and health endpoint listening');
        if (webConsole) logger.info({ url: app.consoleUrl, control: consoleOptions?.controlToken !== undefined }, 'web console listening');
      }
      if (options.shutdownOnSignals) {
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      }
      state = 'running';
    },
    async stop() {
      if (state === 'stopped' || state === 'stopping') return;
      state = 'stopping';
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      const work = (async () => {
        for (const runtime of runtimes) await runtime.stop();
        await connectors.terminateChild('nats'); // the cluster node leaves last
        await clusterNode?.stop();
        await node.stop();
        await producer?.close();
        webConsole?.close();
        await http?.close();
        eventLoopLag.stop();
      })();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), shutdownTimeoutMs);
      });
      const outcome = await Promise.race([work.then(() => 'done' as const), timeout]);
      clearTimeout(timer);
      state = 'stopped';
      if (outcome === 'timeout') {
        throw new TributaryError(`stop() did not finish within shutdownTimeoutMs (${shutdownTimeoutMs} ms)`);
      }
      logger.info('stopped');
    },
    health() {
      const processors = runtimes.map((r) => ({ id: r.processor.id, partitions: r.status(), standbys: r.standbyStatus() }));
      const supervision = node.health();
      const now = clock.now();
      const connectorStates = connectors.snapshot().children.map((c) => ({
        id: c.id,
        state: c.state,
        restarts: c.restarts,
        downForMs: connectorDownSince.has(c.id) ? now - connectorDownSince.get(c.id)! : 0,
        lastError: c.lastError?.message,
      }));
      const connectorsUp = connectorStates.every((c) => c.downForMs < connectorDownHealthMs);
      return { ok: state === 'running' && supervision.healthy && connectorsUp, state, supervision, connectors: connectorStates, processors, eventLoopLag: eventLoopLag.figures() };
    },
    status() {
      return {
        state,
        healthy: node.health().healthy,
        processors: runtimes.map((r) => ({ id: r.processor.id, paused: r.isPaused, partitions: r.status(), standbys: r.standbyStatus() })),
      };
    },
    async finishInput(finishOptions) {
      for (const runtime of runtimes) await runtime.finishInput(finishOptions);
    },
    processor(id: string) {
      const runtime = runtimes.find((r) => r.processor.id === id);
      if (!runtime) throw new TributaryError(`no processor '${id}' (have: ${runtimes.map((r) => r.processor.id).join(', ')})`);
      return runtime;
    },
    query(processor, store, key, queryOptions) {
      return queryState(app.processor(processor), clusterNode, store, key, queryOptions);
    },
    scan(processor, store, scanOptions) {
      return scanState(app.processor(processor), clusterNode, store, scanOptions);
    },
  };
  return app;
}
