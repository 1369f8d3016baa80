import { TributaryError } from '../errors.js';

/**
 * The base of the cluster layer's errors (membership, remote actors, queries, control).
 *
 * @example
 * try { await node.ask({ node: 'worker-2', path: 'echo' }, 'hi'); }
 * catch (err) { if (err instanceof ClusterError && err.retriable) scheduleRetry(); }
 */
export class ClusterError extends TributaryError {}

/**
 * An `ask` got no reply within its timeout: the node may be slow, overloaded or gone (it is not
 * known down yet). Retriable.
 *
 * @example
 * try { await node.ask(address, { type: 'get' }, { timeoutMs: 500 }); }
 * catch (err) { if (err instanceof AskTimeoutError) console.warn(err.address, err.timeoutMs); }
 */
export class AskTimeoutError extends ClusterError {
  constructor(
    readonly address: { readonly node: string; readonly path: string },
    readonly timeoutMs: number,
    options: { cause?: unknown } = {},
  ) {
    super(`no reply from ${address.path} on node ${address.node} within ${timeoutMs} ms`, { retriable: true, cause: options.cause });
  }
}

/**
 * The node answered but runs no actor at that path (no handler registered, or a partition actor
 * the node does not own, e.g. after a rebalance moved it). Resolve the address again and retry.
 *
 * @example
 * try { await node.ask({ node: 'worker-2', path: 'no-such-actor' }, {}); }
 * catch (err) { if (err instanceof UnknownActorError) console.warn(err.message); }
 */
export class UnknownActorError extends ClusterError {
  constructor(
    readonly address: { readonly node: string; readonly path: string },
    reason?: string,
  ) {
    super(`no actor ${address.path} on node ${address.node}${reason ? `: ${reason}` : ''}`, { retriable: true });
  }
}

/**
 * The target node is down: the membership declared it down or it left, or no node listens on
 * its subject (NATS "no responders"). Nothing was delivered.
 *
 * @example
 * try { node.tell({ node: 'worker-3', path: 'audit' }, event); }
 * catch (err) { if (err instanceof NodeDownError) reroute(event); }
 */
export class NodeDownError extends ClusterError {
  constructor(
    readonly node: string,
    reason: string,
  ) {
    super(`node ${node} is down: ${reason}`, { retriable: true });
  }
}

/**
 * The remote handler ran and threw: its message is carried here (the stack stays on the remote
 * node's log). Not retriable by default: the same message would likely fail again.
 *
 * @example
 * try { await node.ask(address, badRequest); }
 * catch (err) { if (err instanceof RemoteHandlerError) console.error(err.address, err.remoteMessage); }
 */
export class RemoteHandlerError extends ClusterError {
  constructor(
    readonly address: { readonly node: string; readonly path: string },
    readonly remoteMessage: string,
  ) {
    super(`${address.path} on node ${address.node} failed: ${remoteMessage}`);
  }
}

/**
 * An interactive query found no node that owns the key's partition (not assigned yet, or its
 * owner just went down and Kafka has not reassigned it). Retriable: try again in a second.
 *
 * @example
 * try { await node.query('page-views', 'count-by-page', '/home'); }
 * catch (err) { if (err instanceof NoOwnerError) console.warn(err.processor, err.partition); }
 */
export class NoOwnerError extends ClusterError {
  constructor(
    readonly processor: string,
    readonly topic: string | undefined,
    readonly partition: number | undefined,
    reason: string,
  ) {
    super(
      `no node owns ${partition === undefined ? 'the key' : `partition ${partition} of ${topic}`} for processor '${processor}' yet: ${reason}`,
      { retriable: true },
    );
  }
}

/**
 * A message is too large for an envelope (`maxEnvelopeBytes`, 64 KiB by default), or the node is
 * not connected: nothing was sent.
 *
 * @example
 * try { node.tell(address, hugeBlob); }
 * catch (err) { if (err instanceof EnvelopeTooLargeError) console.error(err.bytes, err.limit); }
 */
export class EnvelopeTooLargeError extends ClusterError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
    what: string,
  ) {
    super(`${what} is ${bytes} bytes as an envelope, more than the ${limit}-byte limit`);
  }
}

/** The reason of an `ask` failure that asking again may cure (timeout, node down, unknown actor, a retriable cluster error), else undefined. */
export function retriableAskFailure(err: unknown): string | undefined {
  if (err instanceof AskTimeoutError || err instanceof NodeDownError || err instanceof UnknownActorError) return err.message;
  if (err instanceof ClusterError && err.retriable) return err.message;
  return undefined;
}
