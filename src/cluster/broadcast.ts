import { hostname } from 'node:os';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { Counter, type Registry } from 'prom-client';
import { Observable, ReplaySubject, Subject, map } from 'rxjs';
import secureJsonParse from 'secure-json-parse';
import { z, type ZodType } from 'zod';
import { ConfigError, TributaryError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';

/**
 * The version of the envelope every broadcast value travels in.
 *
 * @example
 * JSON.parse(entry.string()).v === BROADCAST_ENVELOPE_VERSION;
 */
export const BROADCAST_ENVELOPE_VERSION = 1;

/**
 * What is stored in the bucket for a value: the value plus who published it and when, so a
 * node can tell a value from something else written there, and later versions can change the
 * format without old nodes misreading it.
 *
 * @example
 * const stored: BroadcastEnvelope<{ max: number }> = { v: 1, cluster: 'c1', name: 'limits', value: { max: 3 }, publishedAt: Date.now(), publisher: 'node-a:42' };
 */
export interface BroadcastEnvelope<T> {
  readonly v: typeof BROADCAST_ENVELOPE_VERSION;
  readonly cluster: string;
  readonly name: string;
  readonly value: T;
  /** Epoch ms at the publisher. */
  readonly publishedAt: number;
  /** Who published it (`host:pid` by default). */
  readonly publisher: string;
}

/**
 * An accepted value, with its place in the bucket's history.
 *
 * @example
 * state.changes.subscribe(({ value, revision, publisher }: BroadcastValue<Limits>) => log.info({ revision, publisher }, 'limits changed'));
 */
export interface BroadcastValue<T> {
  readonly value: T;
  /** The KV revision (the stream sequence): increases with every publish, on every node alike. */
  readonly revision: number;
  readonly publishedAt: number;
  readonly publisher: string;
}

/**
 * A value that was received and refused: it changed nothing.
 *
 * @example
 * state.rejections.subscribe(({ revision, reason }: BroadcastRejection) => log.warn({ revision }, reason));
 */
export interface BroadcastRejection {
  readonly revision: number;
  readonly reason: string;
}

/**
 * Options of {@link BroadcastState.open}.
 *
 * @example
 * const options: BroadcastStateOptions<number> = { cluster: 'c1', name: 'max-rate', schema: z.number().int(), servers: 'nats://127.0.0.1:4222' };
 */
export interface BroadcastStateOptions<T> {
  /** The cluster's name: `[A-Za-z0-9_-]+`. Different clusters on one NATS server never see each other's values. */
  readonly cluster: string;
  /** The value's name: `[A-Za-z0-9_-]+`, dot-separated tokens allowed (`fraud.config`). */
  readonly name: string;
  /** Every value, published or received, must satisfy it. */
  readonly schema: ZodType<T>;
  /**
   * A connection to use (yours: {@link BroadcastState.close} leaves it open). Give either this
   * or `servers`.
   */
  readonly connection?: NatsConnection;
  /**
   * Servers to connect to. The state owns that connection: it reconnects forever
   * (`maxReconnectAttempts: -1`, every 2,000 ms; `connectionOptions` may change both) and is
   * closed by {@link BroadcastState.close}.
   */
  readonly servers?: string | readonly string[];
  /** Passed to `connect` with `servers` (authentication, TLS, `name`, ...). */
  readonly connectionOptions?: Omit<NodeConnectionOptions, 'servers'>;
  /** Revisions the bucket keeps per value (audit trail). Default 5. */
  readonly history?: number;
  /** Written in the envelope of what this node publishes. Default `<hostname>:<pid>`. */
  readonly publisher?: string;
  /** Default: {@link createLogger}() with `component: 'broadcast'`. */
  readonly logger?: Logger;
  /** Registers `tributary_broadcast_received_total` and `tributary_broadcast_rejected_total` here. */
  readonly registry?: Registry;
}

const NAME_TOKEN = /^[A-Za-z0-9_-]+$/;
const KEY = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

const envelopeSchema = z.strictObject({
  v: z.literal(BROADCAST_ENVELOPE_VERSION),
  cluster: z.string(),
  name: z.string(),
  value: z.unknown(),
  publishedAt: z.number().int(),
  publisher: z.string(),
});

/**
 * A broadcast operation failed (the value is invalid, the state is closed, NATS unreachable).
 *
 * @example
 * try { await state.publish(value); } catch (err) { if (err instanceof BroadcastError) console.error(err.message); }
 */
export class BroadcastError extends TributaryError {}

/**
 * Cluster-wide state with one writer at a time and a reader on every node: runtime
 * configuration such as fraud thresholds. Any node {@link publish}es a value; every node has
 * the latest valid one in {@link current} and as an Observable ({@link changes}).
 *
 * It lives in a JetStream KV bucket, so a node that joins later (or restarts) gets the latest
 * value at {@link open}. The namespace `tributary.<cluster>.broadcast.<name>` maps to bucket
 * `tributary-<cluster>-broadcast`, key `<name>` (bucket names cannot contain dots): the
 * value's NATS subject is `$KV.tributary-<cluster>-broadcast.<name>`.
 *
 * Every value travels in a versioned {@link BroadcastEnvelope} and is validated on receipt
 * against the envelope format and `schema`. Anything else (not JSON, a `__proto__` key, another
 * envelope version, a value the schema refuses) is rejected: counted ({@link rejected},
 * `tributary_broadcast_rejected_total`), logged with the reason, sent to {@link rejections};
 * the current value stays. Nothing received can throw.
 *
 * Connection loss is survived: the client reconnects (forever, when the state owns the
 * connection); after a reconnect the state re-reads the value (an update published while this
 * node was cut off arrives as soon as it is back) and re-opens its watch from the last revision
 * seen; a watch that fails is re-opened with backoff (250 ms doubling to 5 s). Meanwhile
 * {@link current} keeps the last value.
 *
 * @example
 * const Thresholds = z.strictObject({ velocityCount: z.number().int().positive() });
 * const thresholds = await BroadcastState.open({
 *   cluster: 'payments', name: 'fraud-config', schema: Thresholds, servers: 'nats://127.0.0.1:4222',
 * });
 * thresholds.changes.subscribe(({ value, revision }) => console.log(revision, value.velocityCount));
 * await thresholds.publish({ velocityCount: 3 }); // every node sees it
 * thresholds.current(); // { velocityCount: 3 }
 * await thresholds.close();
 */
export class BroadcastState<T> {
  /** `tributary-<cluster>-broadcast`. */
  readonly bucket: string;
  /** The value's key in the bucket: the `name`. */
  readonly key: string;
  /** The value's NATS subject: `$KV.<bucket>.<key>`. */
  readonly subject: string;
  /**
   * The latest accepted value now (when there is one), then every newer accepted value, in
   * revision order. Hot: never completes before {@link close}.
   */
  readonly changes: Observable<BroadcastValue<T>>;
  /** {@link changes}, values only. */
  readonly values: Observable<T>;
  /** Every rejected value, as it is received. */
  readonly rejections: Observable<BroadcastRejection>;

  private readonly cluster: string;
  private readonly name: string;
  private readonly schema: ZodType<T>;
  private readonly publisher: string;
  private readonly logger: Logger;
  private readonly changeSubject = new ReplaySubject<BroadcastValue<T>>(1);
  private readonly rejectionSubject = new Subject<BroadcastRejection>();
  private readonly receivedCounter: Counter<'cluster' | 'name'> | undefined;
  private readonly rejectedCounter: Counter<'cluster' | 'name'> | undefined;
  private kv: KV | undefined;
  private latestValue: BroadcastValue<T> | undefined;
  private lastSeen = 0;
  private acceptedCount = 0;
  private rejectedCount = 0;
  private closed = false;
  private watcher: { stop(): void } | undefined;
  private statuses: { stop?(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly background: Promise<void>[] = [];

  private constructor(
    options: BroadcastStateOptions<T>,
    private readonly connection: NatsConnection,
    private readonly ownsConnection: boolean,
  ) {
    this.cluster = options.cluster;
    this.name = options.name;
    this.schema = options.schema;
    this.bucket = `tributary-${options.cluster}-broadcast`;
    this.key = options.name;
    this.subject = `$KV.${this.bucket}.${this.key}`;
    this.publisher = options.publisher ?? `${hostname()}:${process.pid}`;
    this.logger = (options.logger ?? createLogger()).child({ component: 'broadcast', cluster: options.cluster, name: options.name });
    this.changes = this.changeSubject.asObservable();
    this.values = this.changes.pipe(map((v) => v.value));
    this.rejections = this.rejectionSubject.asObservable();
    if (options.registry) {
      this.receivedCounter = counter(options.registry, 'tributary_broadcast_received_total', 'Broadcast values received (accepted or not)');
      this.rejectedCounter = counter(options.registry, 'tributary_broadcast_rejected_total', 'Broadcast values rejected as malformed or invalid');
    }
  }

  /**
   * Connects (or uses `connection`), creates the bucket if it does not exist, reads the latest
   * value, and starts watching for newer ones. Resolves when {@link current} holds the latest
   * value published so far (undefined if none was, or if it was invalid). Invalid options throw
   * a {@link ConfigError}; an unreachable server rejects the promise.
   *
   * @example
   * const state = await BroadcastState.open({ cluster: 'c1', name: 'limits', schema: z.number().int(), connection: nc });
   */
  static async open<T>(options: BroadcastStateOptions<T>): Promise<BroadcastState<T>> {
    validateOptions(options);
    let connection = options.connection;
    const owns = connection === undefined;
    if (connection === undefined) {
      const servers = typeof options.servers === 'string' ? options.servers : [...options.servers!];
      try {
        connection = await connect({ reconnectTimeWait: 2_000, maxReconnectAttempts: -1, ...options.connectionOptions, servers });
      } catch (err) {
        throw new BroadcastError(`cannot connect to NATS at ${String(servers)} for broadcast '${options.name}': ${(err as Error).message}`, {
          retriable: true,
          cause: err,
        });
      }
    }
    const state = new BroadcastState(options, connection, owns);
    try {
      await state.start(options.history ?? 5);
    } catch (err) {
      await state.close();
      throw new BroadcastError(`cannot open broadcast '${options.name}' of cluster '${options.cluster}': ${(err as Error).message}`, {
        retriable: true,
        cause: err,
      });
    }
    return state;
  }

  /** The latest accepted value, or undefined when none has been published (or all were invalid). */
  current(): T | undefined {
    return this.latestValue?.value;
  }

  /** The latest accepted value with its revision and origin. */
  latest(): BroadcastValue<T> | undefined {
    return this.latestValue;
  }

  /** Values accepted since {@link open} (the one read at open included). */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** Values rejected since {@link open}. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /**
   * Validates `value` against the schema (a {@link BroadcastError} naming the fields when it
   * fails: nothing is published), publishes it, and resolves with its revision once the server
   * stored it. This node's {@link current} has it when the promise resolves; other nodes get it
   * from their watch, typically within a millisecond or two.
   */
  async publish(value: T): Promise<number> {
    if (this.closed || !this.kv) throw new BroadcastError(`broadcast '${this.name}' is closed`);
    const checked = this.schema.safeParse(value);
    if (!checked.success) throw new BroadcastError(`not published: ${describeIssues(checked.error.issues)}`);
    const envelope: BroadcastEnvelope<T> = {
      v: BROADCAST_ENVELOPE_VERSION,
      cluster: this.cluster,
      name: this.name,
      value: checked.data,
      publishedAt: Date.now(),
      publisher: this.publisher,
    };
    const revision = await this.kv.put(this.key, JSON.stringify(envelope));
    this.accept({ value: checked.data, revision, publishedAt: envelope.publishedAt, publisher: envelope.publisher });
    return revision;
  }

  /** Stops watching and completes the Observables; closes the connection when the state opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.watcher?.stop();
    // Not awaited: on a connection that stays open (the caller's), status() only ends when stopped.
    this.statuses?.stop?.();
    if (this.ownsConnection && !this.connection.isClosed()) {
      await this.connection.close().catch(() => undefined);
    }
    await Promise.allSettled(this.background);
    this.changeSubject.complete();
    this.rejectionSubject.complete();
  }

  private async start(history: number): Promise<void> {
    const kvm = new Kvm(this.connection);
    this.kv = await kvm.create(this.bucket, { history });
    const entry = await this.kv.get(this.key);
    if (entry) this.receive(entry);
    void this.watchStatus();
    this.watch(RETRY_MIN_MS);
  }

  /** Watches the key from the revision after the last one seen; re-opens the watch with backoff when it ends. */
  private watch(retryMs: number): void {
    if (this.closed || !this.kv) return;
    const kv = this.kv;
    const run = async (): Promise<void> => {
      let healthy = false;
      try {
        const iterator = await kv.watch(
          this.lastSeen > 0 ? { key: this.key, resumeFromRevision: this.lastSeen + 1 } : { key: this.key },
        );
        this.watcher = iterator;
        if (this.closed) iterator.stop();
        healthy = true;
        for await (const entry of iterator) this.receive(entry);
      } catch (err) {
        if (!this.closed) this.logger.warn({ err: (err as Error).message }, 'broadcast watch failed; retrying');
      }
      if (this.closed) return;
      const next = healthy ? RETRY_MIN_MS : Math.min(retryMs * 2, RETRY_MAX_MS);
      this.retryTimer = setTimeout(() => this.watch(next), healthy ? RETRY_MIN_MS : retryMs);
    };
    const task = run();
    this.background.push(task);
    void task.finally(() => {
      const at = this.background.indexOf(task);
      if (at >= 0) void this.background.splice(at, 1);
    });
  }

  /** After a reconnect, re-read the value: whatever was published meanwhile arrives at once. */
  private async watchStatus(): Promise<void> {
    const statuses = this.connection.status();
    this.statuses = statuses as { stop?(): void };
    try {
      for await (const status of statuses) {
        if (this.closed) return;
        if (status.type === 'disconnect') this.logger.warn('broadcast: NATS connection lost; reconnecting');
        if (status.type !== 'reconnect') continue;
        this.logger.info('broadcast: NATS connection back; re-reading the value and re-opening the watch');
        // The watch's consumer may not have survived (a restarted server): open a new one from
        // the last revision seen rather than wait for missed heartbeats to tell.
        this.watcher?.stop();
        try {
          const entry = await this.kv?.get(this.key);
          if (entry) this.receive(entry);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'broadcast: re-reading after reconnect failed; the watch will catch up');
        }
      }
    } catch {
      // The status iterator ends with the connection.
    }
  }

  /** One entry from the bucket: accepted if valid and newer than the last seen, else rejected or skipped. Never throws. */
  private receive(entry: KvEntry): void {
    try {
      if (entry.revision <= this.lastSeen) return;
      this.lastSeen = entry.revision;
      this.receivedCounter?.inc({ cluster: this.cluster, name: this.name });
      if (entry.operation !== 'PUT') {
        this.logger.warn({ revision: entry.revision, operation: entry.operation }, 'broadcast value deleted; keeping the current one');
        return;
      }
      const reason = this.validate(entry);
      if (typeof reason === 'string') {
        this.reject(entry.revision, reason);
        return;
      }
      this.accept({ ...reason, revision: entry.revision });
    } catch (err) {
      this.reject(entry.revision, `unexpected error while reading it: ${(err as Error).message}`);
    }
  }

  /** The value and its origin, or why it is refused. */
  private validate(entry: KvEntry): Omit<BroadcastValue<T>, 'revision'> | string {
    let parsed: unknown;
    try {
      parsed = secureJsonParse.parse(Buffer.from(entry.value).toString('utf8'), null, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      return `not JSON (or a forbidden key): ${(err as Error).message}`;
    }
    const envelope = envelopeSchema.safeParse(parsed);
    if (!envelope.success) return `not a version ${BROADCAST_ENVELOPE_VERSION} envelope: ${describeIssues(envelope.error.issues)}`;
    if (envelope.data.cluster !== this.cluster || envelope.data.name !== this.name) {
      return `envelope is for ${envelope.data.cluster}/${envelope.data.name}, not ${this.cluster}/${this.name}`;
    }
    const value = this.schema.safeParse(envelope.data.value);
    if (!value.success) return `invalid value: ${describeIssues(value.error.issues)}`;
    return { value: value.data, publishedAt: envelope.data.publishedAt, publisher: envelope.data.publisher };
  }

  private accept(value: BroadcastValue<T>): void {
    if (this.latestValue && value.revision <= this.latestValue.revision) return;
    this.lastSeen = Math.max(this.lastSeen, value.revision);
    this.latestValue = value;
    this.acceptedCount++;
    this.logger.info({ revision: value.revision, publisher: value.publisher }, 'broadcast value accepted');
    this.changeSubject.next(value);
  }

  private reject(revision: number, reason: string): void {
    this.rejectedCount++;
    this.rejectedCounter?.inc({ cluster: this.cluster, name: this.name });
    this.logger.warn({ revision, reason }, 'broadcast value rejected');
    this.rejectionSubject.next({ revision, reason });
  }
}

function validateOptions<T>(options: BroadcastStateOptions<T>): void {
  if (typeof options !== 'object' || options === null) throw new ConfigError('broadcast', 'options must be an object');
  if (typeof options.cluster !== 'string' || !NAME_TOKEN.test(options.cluster)) {
    throw new ConfigError('broadcast.cluster', `must match ${NAME_TOKEN}, got ${JSON.stringify(options.cluster)}`);
  }
  if (typeof options.name !== 'string' || !KEY.test(options.name)) {
    throw new ConfigError('broadcast.name', `must match ${KEY}, got ${JSON.stringify(options.name)}`);
  }
  if (!options.schema || typeof (options.schema as { safeParse?: unknown }).safeParse !== 'function') {
    throw new ConfigError('broadcast.schema', 'must be a zod schema');
  }
  const hasServers = options.servers !== undefined && (typeof options.servers === 'string' || options.servers.length > 0);
  if ((options.connection === undefined) === !hasServers) {
    throw new ConfigError('broadcast.servers', 'give either `connection` or `servers`, not both or neither');
  }
  if (options.history !== undefined && (!Number.isSafeInteger(options.history) || options.history < 1 || options.history > 64)) {
    throw new ConfigError('broadcast.history', `must be an integer from 1 to 64, got ${String(options.history)}`);
  }
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function counter(registry: Registry, name: string, help: string): Counter<'cluster' | 'name'> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'cluster' | 'name'>;
  return new Counter({ name, help, labelNames: ['cluster', 'name'], registers: [registry] });
}
