import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Sink } from './sink.js';

/** Options of {@link toNatsSubject}. */
export interface NatsSinkOptions<T> {
  /** The connection to publish on (the app's, or your own). */
  readonly connection: NatsConnection;
  /** The subject for each item. Default: the sink's subject for all. */
  readonly subject?: (item: T) => string;
  /** How an item becomes a payload. Default: JSON. */
  readonly serialize?: (item: T) => string | Uint8Array;
  /**
   * While the connection is down, the client keeps what is published in memory until it is back
   * (nats.js has no limit of its own). Beyond this many bytes published during one outage, items
   * are dropped and counted (`tributary_sink_dropped_total{reason="disconnected"}`) instead.
   * Default 8 MiB, as the Go client's reconnect buffer.
   */
  readonly maxBufferedBytes?: number;
}

const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const encoder = new TextEncoder();

/**
 * Publishes results to a NATS subject for live dashboards: at-most-once (core NATS), so a
 * result counts as delivered once it is handed to the client. Not for results that must survive
 * a crash: use {@link toTopic} for those. While NATS is unreachable the client buffers up to
 * `maxBufferedBytes` (8 MiB) and sends it on reconnect; beyond that, items are dropped, counted
 * and logged (once per outage), so memory stays bounded and the Kafka side keeps flowing.
 *
 * @example
 * const live = toNatsSubject<PageView>('dashboards.page-views', { connection: nc });
 */
export function toNatsSubject<T>(subject: string, options: NatsSinkOptions<T>): Sink<T> {
  const serialize = options.serialize ?? ((item: T) => JSON.stringify(item));
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const name = `nats:${subject}`;
  let disconnected = false;
  let bufferedBytes = 0;
  let droppedThisOutage = 0;
  let watching: { stop?: () => void } | undefined;
  let logger: Logger | undefined;
  let dropped: ((n: number) => void) | undefined;

  async function watch(statuses: AsyncIterable<{ type: string }>): Promise<void> {
    try {
      for await (const status of statuses) {
        if (status.type === 'disconnect') {
          disconnected = true;
        } else if (status.type === 'reconnect') {
          if (droppedThisOutage > 0) logger?.warn({ sink: name, dropped: droppedThisOutage }, 'NATS back: live results dropped while disconnected');
          disconnected = false;
          bufferedBytes = 0;
          droppedThisOutage = 0;
        }
      }
    } catch {
      // The status stream ends with the connection.
    }
  }

  return {
    name,
    async start(context) {
      logger = context.logger;
      const counter: Counter<'processor' | 'sink' | 'reason'> | undefined = context.metrics?.sinkDropped;
      dropped = (n) => counter?.inc({ processor: context.processorId, sink: name, reason: 'disconnected' }, n);
      const statuses = options.connection.status();
      watching = statuses as { stop?: () => void };
      void watch(statuses);
    },
    async write(items) {
      const nc = options.connection;
      for (const item of items) {
        const payload = serialize(item);
        if (disconnected) {
          const bytes = typeof payload === 'string' ? encoder.encode(payload).length : payload.length;
          if (bufferedBytes + bytes > maxBufferedBytes) {
            if (droppedThisOutage++ === 0) logger?.warn({ sink: name, maxBufferedBytes }, 'NATS disconnected and its buffer full: dropping live results until it is back');
            dropped?.(1);
            continue;
          }
          bufferedBytes += bytes;
        }
        nc.publish(options.subject?.(item) ?? subject, payload);
      }
    },
    async stop() {
      watching?.stop?.();
    },
  };
}
