import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { EMPTY, filter, type Observable, type Subscription as RxSubscription } from 'rxjs';
import type { ClusterHost } from './cluster-host.js';
import { ConfigError, TributaryError } from '../errors.js';
import type { ChildExit, ChildSpecOptions } from '../supervision/child-spec.js';
import { systemClock, type SupervisorClock } from '../supervision/clock.js';
import { handlerMatches, parsePartitionPath, partitionPattern, type ActorAddress } from './actor-address.js';
import { ClusterControl, type ClusterStatus, type ControlCommand, type ControlOptions, type ControlOutcome } from './control.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from './envelope.js';
import { ClusterError, UnknownActorError } from './errors.js';
import { MemberEviction, type EvictionEvent } from './member-eviction.js';
import { MemberTracker, type GroupMembership, type MembershipEvent, type MembershipSnapshot, type MembershipTimings } from './member-tracker.js';
import { Membership, type ReportSource } from './membership.js';
import { ClusterQueries, QUERY_PATH, type ClusterQueryAnswer, type QueryOptions } from './queries.js';
import { ClusterScans, SCAN_PATH } from './scans.js';
import type { ScanOptions, StateScanAnswer } from '../processor/store-scan.js';
import { ClusterRejections } from './rejections.js';
import { RemoteActors, type ActorContext, type ActorHandler, type AskOptions } from './remote.js';
import { checkToken, clusterSubjects, TOKEN_PATTERN } from './subjects.js';

/**
 * NATS credentials, passed through to the client:
 * - `{ user, password }` or `{ token }`: the server's `authorization` block;
 * - `{ nkeySeed }`: an nkey user seed (`SU...`), signing the server's nonce;
 * - `{ credentials }`: the contents of a `.creds` file (JWT + nkey seed, decentralised auth).
 *
 * @example
 * const auth: NatsAuth = { nkeySeed: process.env.NATS_NKEY_SEED! };
 * new ClusterNode({ app, cluster: 'prod', servers: 'nats://nats:4222', auth });
 */
export type NatsAuth =
  | { readonly user: string; readonly password: string }
  | { readonly token: string }
  | { readonly nkeySeed: string }
  | { readonly credentials: string };

/**
 * TLS options passed through to the NATS client (`ca`, `cert`, `key` as PEM text, or `caFile`, `certFile`, `keyFile`).
 *
 * @example
 * const tls: NatsTlsOptions = { caFile: '/etc/nats/ca.pem', certFile: '/etc/nats/client.pem', keyFile: '/etc/nats/client-key.pem' };
 */
export type NatsTlsOptions = NonNullable<NodeConnectionOptions['tls']>;

/**
 * Options of {@link ClusterNode}.
 *
 * @example
 * const options: ClusterNodeOptions = { app, cluster: 'prod', nodeId: 'worker-1', servers: ['nats://n1:4222', 'nats://n2:4222'], auth: { user: 'tributary', password } };
 */
export interface ClusterNodeOptions {
  /** The app this node serves (its processors, status, metrics, logger). */
  readonly app: ClusterHost;
  /** The cluster's name: one NATS subject token (`[A-Za-z0-9_-]{1,64}`). Nodes of other clusters on the same NATS are invisible. */
  readonly cluster: string;
  /** This node's id, unique in the cluster, one subject token. Default `<hostname>-<pid>` (sanitised). */
  readonly nodeId?: string;
  /** A connection of yours (left open by `stop()`); make it with `maxReconnectAttempts: -1`. Give this or `servers`. */
  readonly connection?: NatsConnection;
  /** NATS servers: the node connects, reconnects forever, and closes the connection on `stop()`. */
  readonly servers?: string | readonly string[];
  readonly auth?: NatsAuth;
  readonly tls?: NatsTlsOptions;
  /** Anything else for `connect` (`name`, `reconnectTimeWait`, `pingInterval`, ...). `maxReconnectAttempts` is always -1. */
  readonly connectionOptions?: Omit<NodeConnectionOptions, 'servers' | 'maxReconnectAttempts' | 'tls'>;
  /** Default 250 ms. */
  readonly heartbeatIntervalMs?: number;
  /** Default 1,000 ms. */
  readonly suspectAfterMs?: number;
  /** Default 2,000 ms: then the node is declared down and its consumer-group members evicted (see docs/runtime.md "Failover"). */
  readonly downAfterMs?: number;
  /** Default 60,000 ms. */
  readonly forgetAfterMs?: number;
  /**
   * When another node is declared down, remove its consumer-group members from their groups (if
   * this node is the evictor: see {@link MemberEviction}), so that its partitions move at once
   * rather than when its session expires. Default true where the app's log supports it (Kafka,
   * MemoryLog).
   */
  readonly evictDeadMembers?: boolean;
  /** Default timeout of `ask`. Default 2,000 ms. */
  readonly askTimeoutMs?: number;
  /** Default time to gather control replies. Default 2,000 ms (`drain`: 35,000 ms). */
  readonly controlTimeoutMs?: number;
  /** Largest envelope sent or accepted. Default 65,536 bytes. */
  readonly maxEnvelopeBytes?: number;
  /** When set, control commands from other node ids are rejected (and counted as `unauthorized`). */
  readonly acceptControlFrom?: readonly string[];
  /** Default: the app's logger, `component: 'cluster'`. */
  readonly logger?: Logger;
  /** Default: the system clock (membership timers). */
  readonly clock?: SupervisorClock;
}

/**
 * A handler for the partition actors of a processor on this node (see {@link ClusterNode.registerPartitionHandler}).
 *
 * @example
 * const handler: PartitionActorHandler = (message, { topic, partition, from }) => ({ topic, partition, from, message });
 * node.registerPartitionHandler('page-views', handler);
 */
export type PartitionActorHandler = (
  message: unknown,
  context: ActorContext & { readonly processor: string; readonly topic: string; readonly partition: number },
) => unknown;

type State = 'created' | 'starting' | 'running' | 'detached' | 'stopping' | 'stopped';

/**
 * A tributary node's membership in a cluster over NATS: heartbeats and the live view of nodes
 * and partition owners, remote `tell`/`ask` to actors by address, interactive queries routed
 * to the owner of a key, and cluster-wide status and pause/resume/drain.
 *
 * The NATS connection reconnects forever (`maxReconnectAttempts: -1`, every 1 s by default);
 * nats.js re-subscribes on reconnect; while disconnected the node judges no other node (see
 * {@link MemberTracker}), and it heartbeats at once when it is back, so a nats-server restart
 * leaves the membership as it was. Disconnects and reconnects are logged.
 *
 * @example
 * const app = createTributary({ processors: [pageViews], log: new KafkaConnector({ brokers }) });
 * const node = new ClusterNode({ app, cluster: 'prod', nodeId: 'worker-1', servers: 'nats://nats:4222', auth: { token } });
 * await app.start();
 * await node.start();
 * node.membership.subscribe((view) => console.log(view.members.map((m) => `${m.node}:${m.status}`)));
 * const answer = await node.query('page-views', 'count-by-page', '/home');
 * await node.stop(); // announces the leave
 * await app.stop();
 */
export class ClusterNode {
  readonly id: string;
  readonly cluster: string;
  private readonly app: ClusterHost;
  private readonly logger: Logger;
  private readonly clock: SupervisorClock;
  private readonly tracker: MemberTracker;
  private readonly remote: RemoteActors;
  private readonly queries: ClusterQueries;
  private readonly scans: ClusterScans;
  private readonly maxBytes: number;
  private readonly subjects: ReturnType<typeof clusterSubjects>;
  private readonly rejections: ClusterRejections;
  private readonly incarnation = randomBytes(8).toString('hex');
  private nc: NatsConnection | undefined;
  private membershipLoop: Membership | undefined;
  private control: ClusterControl | undefined;
  private state: State = 'created';
  private readonly subscriptions: RxSubscription[] = [];
  private statusWatch: Promise<void> | undefined;
  private stopStatusWatch: (() => void) | undefined;
  private assignmentWatch: RxSubscription | undefined;
  private readonly eviction: MemberEviction | undefined;

  constructor(private readonly options: ClusterNodeOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError('cluster', 'options must be an object');
    if (!options.app || typeof options.app.status !== 'function') throw new ConfigError('cluster.app', 'give the Tributary app this node serves');
    checkToken('cluster.cluster', options.cluster);
    const nodeId = options.nodeId ?? defaultNodeId();
    checkToken('cluster.nodeId', nodeId);
    const hasServers = options.servers !== undefined && (typeof options.servers === 'string' || options.servers.length > 0);
    if ((options.connection === undefined) === !hasServers) throw new ConfigError('cluster.servers', 'give either `connection` or `servers`, not both or neither');
    if (options.connection && (options.auth || options.tls)) throw new ConfigError('cluster.auth', '`auth` and `tls` apply to `servers`; a given `connection` is already authenticated');
    this.maxBytes = positive('cluster.maxEnvelopeBytes', options.maxEnvelopeBytes, DEFAULT_MAX_ENVELOPE_BYTES);
    const askTimeoutMs = positive('cluster.askTimeoutMs', options.askTimeoutMs, 2_000);
    positive('cluster.controlTimeoutMs', options.controlTimeoutMs, 2_000);
    this.id = nodeId;
    this.cluster = options.cluster;
    this.app = options.app;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? options.app.logger).child({ component: 'cluster', cluster: options.cluster, node: nodeId });
    this.subjects = clusterSubjects(options.cluster);
    const timings: Partial<MembershipTimings> = {
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      suspectAfterMs: options.suspectAfterMs,
      downAfterMs: options.downAfterMs,
      forgetAfterMs: options.forgetAfterMs,
    };
    this.tracker = new MemberTracker({ self: nodeId, timings, clock: this.clock });
    this.rejections = new ClusterRejections(options.app.metrics.registry, this.logger);
    this.remote = new RemoteActors({
      subjects: this.subjects,
      nodeId,
      tracker: this.tracker,
      maxBytes: this.maxBytes,
      rejections: this.rejections,
      logger: this.logger,
      askTimeoutMs,
    });
    this.queries = new ClusterQueries({ app: this.app, nodeId, tracker: this.tracker, remote: this.remote, logger: this.logger });
    this.remote.register(QUERY_PATH, this.queries.handler);
    this.scans = new ClusterScans({ app: this.app, nodeId, tracker: this.tracker, remote: this.remote, logger: this.logger });
    this.remote.register(SCAN_PATH, this.scans.handler);
    const groupEviction = options.evictDeadMembers === false ? undefined : options.app.log.groupEviction?.();
    if (groupEviction) {
      this.eviction = new MemberEviction({ tracker: this.tracker, self: nodeId, eviction: groupEviction, logger: this.logger, registry: options.app.metrics.registry });
    }
  }

  /** What the eviction of nodes gone decided and did (nothing when `evictDeadMembers` is off or the log has no eviction). */
  get evictions(): Observable<EvictionEvent> {
    return this.eviction?.events ?? EMPTY;
  }

  /** The live view: the current snapshot first, then each change (status, partitions, handlers). */
  get membership(): Observable<MembershipSnapshot> {
    return this.tracker.changes;
  }

  /** Membership status changes (joined, suspected, down, alive, left, restarted, forgotten). */
  get events(): Observable<MembershipEvent> {
    return this.tracker.events;
  }

  /** The view now. */
  members(): MembershipSnapshot {
    return this.tracker.snapshot();
  }

  /** The failure detector's timings in force. */
  get timings(): MembershipTimings {
    return this.tracker.timings;
  }

  /** The NATS connection (after `start()`). */
  get connection(): NatsConnection {
    if (!this.nc) throw new ClusterError('the cluster node is not started');
    return this.nc;
  }

  /** Connects (unless given a connection), subscribes, and starts heartbeating. Rejects if NATS cannot be reached. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new TributaryError(`cannot start the cluster node: it is ${this.state}`);
    this.state = 'starting';
    this.subscriptions.push(this.tracker.events.subscribe((event) => this.logEvent(event)));
    if (this.eviction) {
      this.eviction.start();
      // Connect ahead of need: a removal is then one coordinator look-up and one request.
      void this.eviction.connect().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'eviction client could not connect yet; it retries when needed'));
    }
    try {
      await this.attach(this.options.connection ?? (await this.connectOrExplain()));
    } catch (err) {
      this.state = 'stopped';
      throw err;
    }
    this.state = 'running';
  }

  /**
   * The node's NATS connection as a child of a supervisor (the app puts it under `connectors`),
   * for a started node. The client reconnects forever by itself; the connection only closes
   * when the server refuses it for good (e.g. authorization revoked) or someone closes it. Then
   * the child ends as failed, and its restart connects anew and takes up heartbeats, actor
   * inboxes and control again on the new connection (registered handlers and the membership
   * view are kept). A connection of the caller's (`connection`) cannot be replaced: its restarts
   * fail until the supervisor gives up. Stopping the child stops the node (announces the leave).
   *
   * @example
   * await node.start();
   * await connectors.startChild(node.connectionChild());
   */
  connectionChild(): ChildSpecOptions {
    return {
      id: 'nats',
      restart: 'permanent',
      shutdownTimeoutMs: 10_000,
      start: async () => {
        if (this.state === 'detached') {
          if (this.options.connection) throw new ClusterError('the NATS connection given to the cluster node is closed; give the node servers to reconnect to');
          this.state = 'starting';
          try {
            await this.attach(await this.connectOrExplain());
          } catch (err) {
            this.state = 'detached';
            throw err;
          }
          this.state = 'running';
          this.logger.info('cluster node reconnected on a new NATS connection');
        } else if (this.state !== 'running') {
          throw new ClusterError(`the cluster node is ${this.state}: start it before supervising its connection`);
        }
        const nc = this.nc!;
        const done = nc.closed().then(async (error): Promise<ChildExit> => {
          if (this.state !== 'running' || this.nc !== nc) return { reason: 'shutdown' };
          this.state = 'detached';
          await this.detach();
          const reason = error ?? new ClusterError('the NATS connection closed');
          this.logger.error({ err: reason.message }, 'NATS connection closed for good; reconnecting after a backoff');
          return { reason: 'failed', error: reason };
        });
        return { done, stop: () => this.stop() };
      },
    };
  }

  private async connectOrExplain(): Promise<NatsConnection> {
    try {
      return await this.connect();
    } catch (err) {
      throw new ClusterError(`cannot connect to NATS at ${String(this.options.servers)}: ${(err as Error).message}`, { retriable: true, cause: err });
    }
  }

  /** Takes up heartbeats, the actor inbox and control on `nc`. */
  private async attach(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    this.statusWatch = this.watchConnection(nc);
    this.remote.start(nc);
    this.control = new ClusterControl({
      app: this.app,
      subjects: this.subjects,
      nodeId: this.id,
      tracker: this.tracker,
      maxBytes: this.maxBytes,
      rejections: this.rejections,
      logger: this.logger,
      timeoutMs: this.options.controlTimeoutMs ?? 2_000,
      acceptFrom: this.options.acceptControlFrom,
    });
    this.control.start(nc);
    this.membershipLoop = new Membership({
      connection: nc,
      subjects: this.subjects,
      nodeId: this.id,
      incarnation: this.incarnation,
      startedAt: Date.now(),
      tracker: this.tracker,
      report: this.report,
      clock: this.clock,
      maxBytes: this.maxBytes,
      rejections: this.rejections,
      logger: this.logger,
      registry: this.app.metrics.registry,
    });
    // Assignments change on rebalances: tell the others at once rather than at the next tick.
    this.assignmentWatch = this.app.lifecycle
      .pipe(filter((e) => e.type === 'partition.started' || e.type === 'partition.stopped' || e.type === 'processor.stopped'))
      .subscribe(() => this.membershipLoop?.beatSoon());
    await nc.flush().catch(() => undefined); // the subscriptions are registered before the first heartbeat
    this.membershipLoop.start();
    this.logger.info({ server: nc.getServer(), timings: this.tracker.timings }, 'cluster node started');
  }

  /** Stops heartbeats, the actor inbox and control (the connection is left as it is). */
  private async detach(): Promise<void> {
    await this.membershipLoop?.stop();
    this.membershipLoop = undefined;
    this.remote.stop();
    this.control?.stop();
    this.control = undefined;
    this.assignmentWatch?.unsubscribe();
    this.assignmentWatch = undefined;
    this.stopStatusWatch?.();
    await this.statusWatch;
  }

  /** Announces the leave, unsubscribes, and closes the connection if the node opened it. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping' || this.state === 'created') {
      this.state = 'stopped';
      return;
    }
    const attached = this.state !== 'detached';
    this.state = 'stopping';
    if (attached) await this.detach();
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    await this.eviction?.stop();
    this.tracker.close();
    if (!this.options.connection && this.nc && !this.nc.isClosed()) await this.nc.close().catch(() => undefined);
    this.state = 'stopped';
    this.logger.info('cluster node stopped');
  }

  /** Registers an actor handler on this node (see {@link RemoteActors.register}). Returns its unregistration. */
  register(path: string, handler: ActorHandler): () => void {
    const off = this.remote.register(path, handler);
    this.membershipLoop?.beatSoon();
    return off;
  }

  /**
   * Registers the handler of every partition actor of `processor` on this node
   * (`processor:<id>/partition:*`): a message to `processor:<id>/partition:<topic>-<n>` reaches it
   * only while this node runs that partition; otherwise the sender gets an
   * {@link UnknownActorError} (the partition moved: resolve again).
   */
  registerPartitionHandler(processor: string, handler: PartitionActorHandler): () => void {
    return this.register(partitionPattern(processor), (message, context) => {
      const where = parsePartitionPath(context.path);
      const runs =
        where !== undefined &&
        where.processor === processor &&
        this.app
          .status()
          .processors.find((p) => p.id === processor)
          ?.partitions.some((p) => p.topic === where.topic && p.partition === where.partition && !p.state.startsWith('stopped'));
      if (!runs || !where) throw new UnknownActorError({ node: this.id, path: context.path }, 'this node does not run that partition now');
      return handler(message, { ...context, processor, topic: where.topic, partition: where.partition });
    });
  }

  /**
   * Where `path` lives now: the owner of a partition actor path, or a live node that registered
   * a handler for it (this node first). Undefined when none does.
   */
  resolve(path: string): ActorAddress | undefined {
    const partition = parsePartitionPath(path);
    if (partition) {
      const owner = this.tracker.ownerOf(partition.processor, partition.topic, partition.partition);
      return owner && { node: owner.node, path };
    }
    const live = this.tracker.snapshot().members.filter((m) => m.status === 'alive' && m.report.handlers.some((h) => handlerMatches(h, path)));
    const node = live.find((m) => m.self) ?? live[0];
    return node && { node: node.node, path };
  }

  /** Fire and forget to an actor anywhere (see {@link RemoteActors.tell}). */
  tell(address: ActorAddress, message: unknown): void {
    this.remote.tell(address, message);
  }

  /** Request/reply to an actor anywhere (see {@link RemoteActors.ask}). */
  ask<T = unknown>(address: ActorAddress, message: unknown, options?: AskOptions): Promise<T> {
    return this.remote.ask<T>(address, message, options);
  }

  /** An interactive query answered by the owner of the key's partition (see {@link ClusterQueries.query}). */
  query(processor: string, stateName: string, key: string, options?: QueryOptions): Promise<ClusterQueryAnswer> {
    return this.queries.query(processor, stateName, key, options);
  }

  /** A range or full scan of a store over every partition, wherever it runs (see {@link ClusterScans.scan}). */
  scan(processor: string, store: string, options?: ScanOptions & QueryOptions): Promise<StateScanAnswer> {
    return this.scans.scan(processor, store, options);
  }

  /** Every node's status, health, supervision tree and lag (see {@link ClusterControl.status}). */
  status(options?: Omit<ControlOptions, 'commandId'>): Promise<ClusterStatus> {
    return this.started().status(options);
  }

  /** Pauses `processor` on every node (or `targets`). */
  pause(processor: string, options?: ControlOptions): Promise<ControlOutcome> {
    return this.started().send({ type: 'pause', processor }, options);
  }

  /** Resumes `processor` on every node (or `targets`). */
  resume(processor: string, options?: ControlOptions): Promise<ControlOutcome> {
    return this.started().send({ type: 'resume', processor }, options);
  }

  /** Drains `processor` on every node (or `targets`): finish in-flight records, commit, leave the group. */
  drain(processor: string, options?: ControlOptions): Promise<ControlOutcome> {
    return this.started().send({ type: 'drain', processor }, options);
  }

  /** Sends any control command (see {@link ClusterControl.send}). */
  command(command: ControlCommand, options?: ControlOptions): Promise<ControlOutcome> {
    return this.started().send(command, options);
  }

  private started(): ClusterControl {
    if (!this.control || this.state !== 'running') throw new ClusterError(`the cluster node is ${this.state}, not running`);
    return this.control;
  }

  private readonly report: ReportSource = () => {
    const status = this.app.status();
    return {
      state: status.state,
      healthy: status.healthy,
      handlers: this.remote.handlerNames,
      processors: status.processors.map((p) => ({
        id: p.id,
        paused: p.paused,
        topics: this.topicsOf(p.id),
        partitions: p.partitions.map(({ topic, partition, state }) => ({ topic, partition, state })),
      })),
      groups: this.groupsOf(status.processors.map((p) => p.id)),
    };
  };

  private groupsOf(processors: readonly string[]): GroupMembership[] {
    const groups: GroupMembership[] = [];
    for (const id of processors) {
      try {
        const member = this.app.processor(id).groupMember;
        if (member) groups.push({ group: member.groupId, member: member.memberId });
      } catch {
        // Not a processor runtime of this app (yet): nothing to report.
      }
    }
    return groups;
  }

  private topicsOf(processor: string): string[] {
    try {
      return [...this.app.processor(processor).processor.topics];
    } catch {
      return [];
    }
  }

  private async connect(): Promise<NatsConnection> {
    const { servers, auth, tls, connectionOptions } = this.options;
    const options: NodeConnectionOptions = {
      name: `tributary-${this.cluster}-${this.id}`,
      reconnectTimeWait: 1_000,
      reconnectJitter: 200,
      pingInterval: 10_000,
      maxPingOut: 3,
      ...connectionOptions,
      ...authOptions(auth),
      ...(tls ? { tls } : {}),
      servers: typeof servers === 'string' ? servers : [...servers!],
      maxReconnectAttempts: -1,
    };
    return connect(options);
  }

  /** Logs connection events; holds the failure detector while disconnected, heartbeats at once on reconnect. */
  private async watchConnection(nc: NatsConnection): Promise<void> {
    const statuses = nc.status();
    // A connection of the caller's outlives the node: stop() ends this loop through the iterator.
    this.stopStatusWatch = () => (statuses as { stop?: () => void }).stop?.();
    try {
      for await (const status of statuses) {
        if (this.state === 'stopped' || this.state === 'stopping') break;
        switch (status.type) {
          case 'disconnect':
            this.logger.warn({ server: status.server }, 'NATS connection lost; reconnecting (membership judgement on hold)');
            this.tracker.hold();
            break;
          case 'reconnect':
            this.logger.info({ server: status.server }, 'NATS connection back; membership resumes');
            this.tracker.release();
            this.membershipLoop?.beatSoon();
            break;
          case 'error':
            this.logger.warn({ err: status.error.message }, 'NATS error');
            break;
          case 'staleConnection':
            this.logger.warn('NATS connection stale (pings unanswered); reconnecting');
            break;
          case 'ldm':
            this.logger.warn({ server: status.server }, 'NATS server entering lame duck mode');
            break;
          case 'slowConsumer':
            this.logger.warn({ subject: status.sub.getSubject(), pending: status.pending }, 'NATS slow consumer');
            break;
          default:
            break;
        }
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'NATS status stream ended');
    }
  }

  private logEvent(event: MembershipEvent): void {
    switch (event.type) {
      case 'member.down':
        this.logger.warn(
          { member: event.node, silentForMs: event.silentForMs, partitions: event.partitions.map((p) => `${p.processor}:${p.topic}-${p.partition}`) },
          this.eviction
            ? 'member declared down; its consumer-group members are removed by the evictor, so its partitions move now'
            : 'member declared down; Kafka reassigns its partitions when its consumer session expires',
        );
        break;
      case 'member.suspected':
        this.logger.warn({ member: event.node, silentForMs: event.silentForMs }, 'member suspected');
        break;
      case 'member.forgotten':
        this.logger.debug({ member: event.node }, 'member forgotten');
        break;
      default:
        this.logger.info({ member: event.node }, event.type);
    }
  }
}

function authOptions(auth: NatsAuth | undefined): Partial<NodeConnectionOptions> {
  if (!auth) return {};
  if ('user' in auth) return { user: auth.user, pass: auth.password };
  if ('token' in auth) return { token: auth.token };
  if ('nkeySeed' in auth) return { authenticator: nkeyAuthenticator(new TextEncoder().encode(auth.nkeySeed)) };
  if ('credentials' in auth) return { authenticator: credsAuthenticator(new TextEncoder().encode(auth.credentials)) };
  throw new ConfigError('cluster.auth', 'give { user, password }, { token }, { nkeySeed } or { credentials }');
}

function defaultNodeId(): string {
  const id = `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(-64);
  return TOKEN_PATTERN.test(id) ? id : `node-${process.pid}`;
}

function positive(setting: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(setting, `must be a positive integer, got ${String(value)}`);
  return value;
}
