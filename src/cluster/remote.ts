import { RequestError, TimeoutError, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { handlerMatches, isValidPath, MAX_PATH_LENGTH, type ActorAddress } from './actor-address.js';
import { newMessageId, openEnvelope, sealEnvelope, type Envelope } from './envelope.js';
import { AskTimeoutError, ClusterError, EnvelopeTooLargeError, NodeDownError, RemoteHandlerError, UnknownActorError } from './errors.js';
import { subscribeEnvelopes } from './inbound.js';
import type { MemberTracker } from './member-tracker.js';
import type { ClusterRejections } from './rejections.js';
import type { ClusterSubjects } from './subjects.js';

/**
 * What a handler learns about a message besides its content.
 *
 * @example
 * node.register('whoami', (_message, context: ActorContext) => ({ askedBy: context.from, at: context.path }));
 */
export interface ActorContext {
  /** The sender's node id (checked against the subject it came on). */
  readonly from: string;
  /** The path the message was sent to (a pattern handler sees the concrete path). */
  readonly path: string;
  /** `tell`: the return value is dropped; `ask`: it is the reply. */
  readonly kind: 'tell' | 'ask';
}

/**
 * Handles the messages sent to an actor path on this node. The message is whatever JSON the
 * sender sent: validate it (with zod) before use. For an `ask`, the returned value (or the
 * promise's) is the reply, as JSON; a throw becomes a {@link RemoteHandlerError} at the asker,
 * an {@link UnknownActorError} thrown here reaches the asker as such.
 *
 * @example
 * const rules: ActorHandler = (message) => {
 *   const update = RuleUpdate.parse(message); // validate: it is whatever JSON the sender sent
 *   applyRules(update);
 *   return { applied: true };
 * };
 * node.register('fraud/rules', rules);
 */
export type ActorHandler = (message: unknown, context: ActorContext) => unknown;

/**
 * Options of {@link RemoteActors.ask}.
 *
 * @example
 * await node.ask({ node: 'worker-2', path: 'echo' }, 'hi', { timeoutMs: 250 });
 */
export interface AskOptions {
  /** Default: the node's `askTimeoutMs` (2,000 ms). */
  readonly timeoutMs?: number;
}

const messageBody = z.object({ path: z.string().min(1).max(MAX_PATH_LENGTH), message: z.unknown() }).strict();
type MessageBody = z.infer<typeof messageBody>;

const replyBody = z.discriminatedUnion('ok', [
  z.object({ inReplyTo: z.string().min(1).max(64), ok: z.literal(true), value: z.unknown() }).strict(),
  z
    .object({
      inReplyTo: z.string().min(1).max(64),
      ok: z.literal(false),
      code: z.enum(['unknown-actor', 'handler-failed', 'too-large']),
      message: z.string().max(2_000),
    })
    .strict(),
]);
type ReplyBody = z.infer<typeof replyBody>;
/** A reply without its correlation id: what a dispatch produces. */
type Outcome = { ok: true; value: unknown } | { ok: false; code: 'unknown-actor' | 'handler-failed' | 'too-large'; message: string };

/**
 * Options of {@link RemoteActors}.
 *
 * @example
 * new RemoteActors({ subjects: clusterSubjects('c'), nodeId: 'a', tracker, maxBytes: 65_536, rejections, logger, askTimeoutMs: 2_000 });
 */
export interface RemoteActorsOptions {
  readonly subjects: ClusterSubjects;
  readonly nodeId: string;
  readonly tracker: MemberTracker;
  readonly maxBytes: number;
  readonly rejections: ClusterRejections;
  readonly logger: Logger;
  /** Default timeout of {@link RemoteActors.ask}. */
  readonly askTimeoutMs: number;
}

/**
 * Actor messaging across the cluster. Each node registers handlers under paths; any node sends
 * to `{ node, path }`:
 *
 * - `tell(address, message)`: fire and forget (core NATS: at most once). Throws at once only when
 *   the target is known down ({@link NodeDownError}) or the message is too large.
 * - `ask(address, message)`: request/reply, rejected with {@link AskTimeoutError} after
 *   `timeoutMs`, {@link UnknownActorError} when no handler takes the path there,
 *   {@link NodeDownError} when the node is declared down, left, or nobody listens on its subject
 *   (NATS "no responders", immediate), {@link RemoteHandlerError} when the handler threw.
 *
 * Messages to this node itself skip NATS but go through the same JSON copy, so a handler never
 * shares an object with its sender.
 *
 * @example
 * node.register('echo', (message, { from }) => ({ from, message }));
 * const answer = await node.ask({ node: 'worker-2', path: 'echo' }, { hello: 1 }, { timeoutMs: 500 });
 * node.tell({ node: 'worker-2', path: 'audit' }, { event: 'login' });
 */
export class RemoteActors {
  private readonly handlers = new Map<string, ActorHandler>();
  private connection: NatsConnection | undefined;
  private subscription: Subscription | undefined;

  constructor(private readonly options: RemoteActorsOptions) {}

  /**
   * Registers `handler` for `path` (exact) or for every path starting with a prefix (`'prefix*'`;
   * the longest matching prefix wins). Returns a function that unregisters it. Throws a
   * {@link ConfigError} for an invalid path or one already registered.
   */
  register(path: string, handler: ActorHandler): () => void {
    if (!isValidPath(path)) throw new ConfigError('cluster.register', `invalid actor path ${JSON.stringify(path)}`);
    if (typeof handler !== 'function') throw new ConfigError('cluster.register', `the handler of '${path}' must be a function`);
    if (this.handlers.has(path)) throw new ConfigError('cluster.register', `a handler is already registered for '${path}'`);
    this.handlers.set(path, handler);
    return () => {
      if (this.handlers.get(path) === handler) this.handlers.delete(path);
    };
  }

  /** The registered paths and patterns (advertised in heartbeats). */
  get handlerNames(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Starts taking messages on `tributary.<cluster>.actor.<this node>.*`. */
  start(connection: NatsConnection): void {
    this.connection = connection;
    this.subscription = subscribeEnvelopes<MessageBody>({
      connection,
      subject: this.options.subjects.actorInbox(this.options.nodeId),
      bodies: { tell: messageBody, ask: messageBody },
      maxBytes: this.options.maxBytes,
      rejections: this.options.rejections,
      logger: this.options.logger,
      onEnvelope: (envelope, msg) => this.receive(envelope, msg),
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Fire and forget. See the class documentation for what it throws. */
  tell(address: ActorAddress, message: unknown): void {
    checkAddress(address);
    if (address.node === this.options.nodeId) {
      const copy = jsonCopy(message, this.options.maxBytes);
      queueMicrotask(() => {
        void settle(this.dispatch(address.path, copy, { from: this.options.nodeId, path: address.path, kind: 'tell' }), (outcome) => {
          if (!outcome.ok) this.options.logger.warn({ path: address.path, code: outcome.code, reason: outcome.message }, 'local tell not handled');
        });
      });
      return;
    }
    this.refuseIfGone(address.node);
    const connection = this.connected();
    const data = sealEnvelope('tell', this.options.nodeId, { path: address.path, message: message === undefined ? null : message }, { maxBytes: this.options.maxBytes });
    connection.publish(this.options.subjects.actor(address.node, this.options.nodeId), data);
  }

  /** Request/reply. See the class documentation for how it fails. */
  async ask<T = unknown>(address: ActorAddress, message: unknown, options: AskOptions = {}): Promise<T> {
    checkAddress(address);
    const timeoutMs = options.timeoutMs ?? this.options.askTimeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new ConfigError('ask.timeoutMs', `must be a positive integer, got ${String(timeoutMs)}`);
    if (address.node === this.options.nodeId) {
      const copy = jsonCopy(message, this.options.maxBytes);
      const reply = await withDeadline(Promise.resolve(this.dispatch(address.path, copy, { from: this.options.nodeId, path: address.path, kind: 'ask' })), timeoutMs, address);
      return this.unwrap<T>(address, reply);
    }
    this.refuseIfGone(address.node);
    const connection = this.connected();
    const id = newMessageId();
    const data = sealEnvelope('ask', this.options.nodeId, { path: address.path, message: message === undefined ? null : message }, { maxBytes: this.options.maxBytes, id });
    let msg: Msg;
    try {
      msg = await connection.request(this.options.subjects.actor(address.node, this.options.nodeId), data, { timeout: timeoutMs });
    } catch (err) {
      if (err instanceof TimeoutError) throw new AskTimeoutError(address, timeoutMs, { cause: err });
      if (err instanceof RequestError && err.isNoResponders()) throw new NodeDownError(address.node, 'nothing listens on its subject (no responders)');
      throw new ClusterError(`ask ${address.path} on node ${address.node} failed: ${(err as Error).message}`, { retriable: true, cause: err });
    }
    const opened = openEnvelope<ReplyBody>(msg.data, { bodies: { reply: replyBody }, expectedFrom: address.node, maxBytes: this.options.maxBytes });
    if (!opened.ok) {
      this.options.rejections.reject(opened.reason, opened.detail, msg.subject);
      throw new ClusterError(`invalid reply from node ${address.node} (${opened.reason}): ${opened.detail}`);
    }
    if (opened.envelope.body.inReplyTo !== id) throw new ClusterError(`reply from node ${address.node} answers another message`);
    return this.unwrap<T>(address, opened.envelope.body);
  }

  private unwrap<T>(address: ActorAddress, reply: Outcome): T {
    if (reply.ok) return reply.value as T;
    if (reply.code === 'unknown-actor') throw new UnknownActorError(address, reply.message);
    if (reply.code === 'too-large') throw new RemoteHandlerError(address, `reply too large: ${reply.message}`);
    throw new RemoteHandlerError(address, reply.message);
  }

  private receive(envelope: Envelope<MessageBody>, msg: Msg): Promise<void> | void {
    const { path, message } = envelope.body;
    if (envelope.kind === 'tell') {
      return settle(this.dispatch(path, message, { from: envelope.from, path, kind: 'tell' }), (outcome) => {
        if (!outcome.ok) this.options.logger.warn({ from: envelope.from, path, code: outcome.code, reason: outcome.message }, 'tell not handled');
      });
    }
    if (!msg.reply) {
      this.options.rejections.reject('malformed', 'an ask without a reply subject', msg.subject);
      return;
    }
    return settle(this.dispatch(path, message, { from: envelope.from, path, kind: 'ask' }), (outcome) => {
      let data: Uint8Array;
      try {
        data = sealEnvelope('reply', this.options.nodeId, { inReplyTo: envelope.id, ...outcome }, { maxBytes: this.options.maxBytes });
      } catch (err) {
        if (!(err instanceof EnvelopeTooLargeError)) throw err;
        data = sealEnvelope('reply', this.options.nodeId, { inReplyTo: envelope.id, ok: false, code: 'too-large', message: err.message }, { maxBytes: this.options.maxBytes });
      }
      msg.respond(data);
    });
  }

  /**
   * Runs the handler for `path`; never throws or rejects: failures become error outcomes. A
   * handler that returns a plain value is answered synchronously (no promise hop per message).
   */
  private dispatch(path: string, message: unknown, context: ActorContext): Outcome | Promise<Outcome> {
    const handler = this.lookup(path);
    if (!handler) return { ok: false, code: 'unknown-actor', message: 'no handler registered for this path' };
    let value: unknown;
    try {
      value = handler(message, context);
    } catch (err) {
      return this.failed(err, path, context);
    }
    if (isPromiseLike(value)) {
      return Promise.resolve(value).then(
        (resolved): Outcome => ({ ok: true, value: resolved === undefined ? null : resolved }),
        (err: unknown) => this.failed(err, path, context),
      );
    }
    return { ok: true, value: value === undefined ? null : value };
  }

  private failed(err: unknown, path: string, context: ActorContext): Outcome {
    if (err instanceof UnknownActorError) return { ok: false, code: 'unknown-actor', message: err.message };
    this.options.logger.warn({ err, path, from: context.from }, 'actor handler failed');
    return { ok: false, code: 'handler-failed', message: err instanceof Error ? err.message : String(err) };
  }

  private lookup(path: string): ActorHandler | undefined {
    const exact = this.handlers.get(path);
    if (exact) return exact;
    let best: [string, ActorHandler] | undefined;
    for (const entry of this.handlers) {
      if (entry[0].endsWith('*') && handlerMatches(entry[0], path) && (!best || entry[0].length > best[0].length)) best = entry;
    }
    return best?.[1];
  }

  private refuseIfGone(node: string): void {
    const status = this.options.tracker.statusOf(node);
    if (status === 'down' || status === 'left') throw new NodeDownError(node, status === 'left' ? 'it left the cluster' : 'declared down by the membership');
  }

  private connected(): NatsConnection {
    const connection = this.connection;
    if (!connection || connection.isClosed()) throw new ClusterError('this cluster node is not started or its NATS connection is closed');
    return connection;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** Calls `then` with the outcome now if it is there, else when the promise settles. */
function settle<T>(outcome: T | Promise<T>, then: (value: T) => void): void | Promise<void> {
  return outcome instanceof Promise ? outcome.then(then) : then(outcome);
}

function checkAddress(address: ActorAddress): void {
  if (!address || typeof address.node !== 'string' || address.node.length === 0 || !isValidPath(address.path)) {
    throw new ConfigError('cluster.address', `not an actor address { node, path }: ${JSON.stringify(address)}`);
  }
}

function jsonCopy(message: unknown, maxBytes: number): unknown {
  const text = JSON.stringify(message ?? null);
  if (Buffer.byteLength(text) > maxBytes) throw new EnvelopeTooLargeError(Buffer.byteLength(text), maxBytes, 'the message');
  return JSON.parse(text);
}

async function withDeadline<T>(work: Promise<T>, ms: number, address: ActorAddress): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new AskTimeoutError(address, ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
