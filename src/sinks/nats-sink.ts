import type { NatsConnection } from '@nats-io/transport-node';
import type { Sink } from './sink.js';

/** Options of {@link toNatsSubject}. */
export interface NatsSinkOptions<T> {
  /** The connection to publish on (the app's, or your own). */
  readonly connection: NatsConnection;
  /** The subject for each item. Default: the sink's subject for all. */
  readonly subject?: (item: T) => string;
  /** How an item becomes a payload. Default: JSON. */
  readonly serialize?: (item: T) => string | Uint8Array;
}

/**
 * Publishes results to a NATS subject for live dashboards: at-most-once (core NATS), so a
 * result counts as delivered once it is handed to the client. Not for results that must survive
 * a crash: use {@link toTopic} for those.
 *
 * @example
 * const live = toNatsSubject<PageView>('dashboards.page-views', { connection: nc });
 */
export function toNatsSubject<T>(subject: string, options: NatsSinkOptions<T>): Sink<T> {
  const serialize = options.serialize ?? ((item: T) => JSON.stringify(item));
  return {
    name: `nats:${subject}`,
    async write(items) {
      const nc = options.connection;
      for (const item of items) nc.publish(options.subject?.(item) ?? subject, serialize(item));
    },
  };
}
