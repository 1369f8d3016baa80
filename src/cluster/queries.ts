import type { Logger } from 'pino';
import { z } from 'zod';
import { runtimeOn, type ClusterHost } from './cluster-host.js';
import { ConfigError } from '../errors.js';
import { NoSuchStoreError, type MissingStore } from '../processor/no-such-store-error.js';
import { UnpartitionedStoreError, type UnpartitionedStore } from '../processor/unpartitioned-store-error.js';
import { ClusterError, NoOwnerError, RemoteHandlerError, retriableAskFailure } from './errors.js';
import type { MemberTracker } from './member-tracker.js';
import type { ActorHandler, RemoteActors } from './remote.js';

/**
 * The actor path every node answers interactive queries on.
 *
 * @example
 * await node.ask({ node: 'worker-2', path: QUERY_PATH }, { processor: 'page-views', name: 'count-by-page', key: '/home' });
 */
export const QUERY_PATH = 'tributary/query';

/**
 * The answer to a cluster-wide interactive query.
 *
 * @example
 * const { value, node: answeredBy, stale }: ClusterQueryAnswer = await node.query('page-views', 'count-by-page', '/home');
 */
export interface ClusterQueryAnswer {
  /** The node that answered: the one owning the key's partition. */
  readonly node: string;
  readonly processor: string;
  readonly topic: string;
  readonly partition: number;
  /** Whether the key was found in the named store (or `ctx.queryable(name, ...)` state) of its partition. */
  readonly found: boolean;
  /** What the state's lookup returned for the key (`undefined` becomes `null` on the wire). */
  readonly value: unknown;
  /** The partition was still replaying from its committed offset: the value may lag behind. */
  readonly stale: boolean;
}

/**
 * Options of {@link ClusterQueries.query}.
 *
 * @example
 * await node.query('page-views', 'count-by-page', '/home', { timeoutMs: 1_000 });
 */
export interface QueryOptions {
  /**
   * How long to keep trying while the key's partition has no owner or is moving (a rebalance).
   * Default 5,000 ms; each hop is an `ask` bounded by the node's `askTimeoutMs`.
   */
  readonly timeoutMs?: number;
}

const queryMessage = z
  .object({
    processor: z.string().min(1).max(256),
    name: z.string().min(1).max(256),
    key: z.string().max(4_096),
    /** Set when the asker does not run the processor: the receiver routes to the owner itself. */
    route: z.boolean().optional(),
    timeoutMs: z.number().int().positive().max(60_000).optional(),
  })
  .strict();

/** What a node answers from its own partitions. */
interface LocalAnswer {
  readonly owned: boolean;
  readonly node: string;
  readonly topic: string;
  readonly partition: number | null;
  readonly found: boolean;
  readonly value: unknown;
  readonly stale: boolean;
  /** The store is not partitioned by its key (declared per partition, or the evidence): for the asker to throw an {@link UnpartitionedStoreError}. */
  readonly unpartitioned?: UnpartitionedStore;
  /** The key's partition has no store of that name: for the asker to throw a {@link NoSuchStoreError}. */
  readonly missing?: MissingStore;
}

const RETRY_MS = 100;

/**
 * Options of {@link ClusterQueries}.
 *
 * @example
 * new ClusterQueries({ app, nodeId: 'a', tracker, remote, logger });
 */
export interface ClusterQueriesOptions {
  readonly app: ClusterHost;
  readonly nodeId: string;
  readonly tracker: MemberTracker;
  readonly remote: RemoteActors;
  readonly logger: Logger;
}

/**
 * Interactive queries from any node: "the current value of state S for key K in processor P".
 *
 * 1. The key's partition is found as the source topic is partitioned (murmur2 over the topic's
 *    partition count, which the local `ProcessorRuntime.query` already does).
 * 2. If this node owns that partition, it answers from its live state.
 * 3. Else the owner is looked up in the membership view (from the heartbeats) and asked on
 *    `tributary/query`; it answers from its live state, with `stale: true` while the partition
 *    replays.
 * 4. While no node owns the partition (not assigned yet, or its owner went down and Kafka has not
 *    reassigned it) or the partition moves under the query, it retries every 100 ms until
 *    `timeoutMs`, then throws a {@link NoOwnerError}.
 *
 * A node that does not run the processor forwards the query to one that does.
 *
 * @example
 * const answer = await node.query('page-views', 'count-by-page', '/home');
 * console.log(answer.value, 'from', answer.node, answer.stale ? '(replaying)' : '');
 */
export class ClusterQueries {
  constructor(private readonly options: ClusterQueriesOptions) {}

  /** The handler registered on {@link QUERY_PATH}. */
  readonly handler: ActorHandler = async (message) => {
    const parsed = queryMessage.safeParse(message);
    if (!parsed.success) throw new ClusterError(`invalid query: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const { processor, name, key, route, timeoutMs } = parsed.data;
    try {
      if (route) return await this.route(processor, name, key, timeoutMs ?? 5_000, false);
      return this.local(processor, name, key) ?? { owned: false, node: this.options.nodeId, topic: '', partition: null, found: false, value: null, stale: false };
    } catch (err) {
      // Sent as data, so that the asker throws the same error, evidence and all.
      if (err instanceof UnpartitionedStoreError) return { owned: true, node: this.options.nodeId, topic: err.mismatch?.topic ?? '', partition: null, found: false, value: null, stale: false, unpartitioned: err.unpartitioned };
      if (err instanceof NoSuchStoreError) return { owned: true, node: this.options.nodeId, topic: err.missing.topic, partition: err.missing.partition, found: false, value: null, stale: false, missing: err.missing };
      throw err;
    }
  };

  /** Routes the query to the owner of the key's partition and returns its answer. See the class documentation. */
  async query(processor: string, name: string, key: string, options: QueryOptions = {}): Promise<ClusterQueryAnswer> {
    if (typeof processor !== 'string' || typeof name !== 'string' || typeof key !== 'string') {
      throw new ConfigError('query', 'processor, state name and key must be strings');
    }
    const timeoutMs = options.timeoutMs ?? 5_000;
    return this.route(processor, name, key, timeoutMs, true);
  }

  private async route(processor: string, name: string, key: string, timeoutMs: number, mayForward: boolean): Promise<ClusterQueryAnswer> {
    const deadline = Date.now() + timeoutMs;
    let lastReason: string;
    let where: { topic: string | undefined; partition: number | undefined } = { topic: undefined, partition: undefined };
    for (;;) {
      const local = this.local(processor, name, key);
      if (local?.owned) return toAnswer(processor, local);
      if (local && local.partition !== null) {
        where = { topic: local.topic, partition: local.partition };
        const owner = this.options.tracker.ownerOf(processor, local.topic, local.partition);
        if (!owner) {
          lastReason = 'no live node claims it';
        } else if (owner.node === this.options.nodeId) {
          lastReason = 'it is moving to this node';
        } else {
          const answer = await this.askNode(owner.node, { processor, name, key }, deadline);
          if (typeof answer !== 'string' && answer.unpartitioned) throw new UnpartitionedStoreError(processor, answer.unpartitioned);
          if (typeof answer !== 'string' && answer.missing) throw new NoSuchStoreError(processor, answer.missing);
          if (typeof answer === 'string') lastReason = answer;
          else if (answer.owned) return toAnswer(processor, answer);
          else lastReason = `node ${owner.node} no longer owns it (a rebalance)`;
        }
      } else if (local) {
        lastReason = `this node does not know the partition count of ${local.topic}`;
      } else if (!mayForward) {
        throw new NoOwnerError(processor, undefined, undefined, `processor '${processor}' does not run on node ${this.options.nodeId}`);
      } else {
        const runner = this.runnerOf(processor);
        if (!runner) {
          lastReason = `no live node runs processor '${processor}'`;
        } else {
          // The runner gets a little less time than we wait, so that its own NoOwnerError reaches us.
          const answer = await this.askNode(runner, { processor, name, key, route: true, timeoutMs: Math.max(1, deadline - Date.now() - 100) }, deadline);
          if (typeof answer !== 'string' && answer.unpartitioned) throw new UnpartitionedStoreError(processor, answer.unpartitioned);
          if (typeof answer !== 'string' && answer.missing) throw new NoSuchStoreError(processor, answer.missing);
          if (typeof answer !== 'string') return answer as unknown as ClusterQueryAnswer;
          lastReason = answer;
        }
      }
      if (Date.now() + RETRY_MS > deadline) throw new NoOwnerError(processor, where.topic, where.partition, `${lastReason} (gave up after ${timeoutMs} ms)`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  /** Asks `node` on the query path; a failure that a retry may cure comes back as its reason. */
  private async askNode(node: string, message: z.infer<typeof queryMessage>, deadline: number): Promise<LocalAnswer | string> {
    const remaining = Math.max(1, deadline - Date.now());
    try {
      return await this.options.remote.ask<LocalAnswer>({ node, path: QUERY_PATH }, message, { timeoutMs: message.route ? remaining : undefined });
    } catch (err) {
      if (err instanceof RemoteHandlerError && message.route) throw new NoOwnerError(message.processor, undefined, undefined, `via node ${node}: ${err.remoteMessage}`);
      const retriable = retriableAskFailure(err);
      if (retriable !== undefined) return retriable;
      throw err;
    }
  }

  /** This node's answer, or undefined when it does not run the processor. */
  private local(processor: string, name: string, key: string): LocalAnswer | undefined {
    const runtime = runtimeOn(this.options.app, processor);
    if (!runtime) return undefined;
    const answer = runtime.query(name, key);
    return {
      owned: answer.owned,
      node: this.options.nodeId,
      topic: answer.topic,
      partition: answer.partition ?? null,
      found: answer.found,
      value: answer.value === undefined ? null : answer.value,
      stale: answer.stale,
    };
  }

  /** A live node (not this one) whose heartbeat says it runs `processor`. */
  private runnerOf(processor: string): string | undefined {
    const candidates = this.options.tracker
      .snapshot()
      .members.filter((m) => !m.self && m.status === 'alive' && m.report.processors.some((p) => p.id === processor));
    return candidates[Math.floor(Math.random() * candidates.length)]?.node;
  }
}

function toAnswer(processor: string, local: LocalAnswer): ClusterQueryAnswer {
  return {
    node: local.node,
    processor,
    topic: local.topic,
    partition: local.partition ?? -1,
    found: local.found,
    value: local.value,
    stale: local.stale,
  };
}
