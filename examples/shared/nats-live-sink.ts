import { connect, type NatsConnection } from '@nats-io/transport-node';
import { toNatsSubject, type Sink } from 'tributary';

/**
 * Publishes results to a NATS subject for live dashboards, on a connection of its own opened at
 * `start` and drained at `stop`. At-most-once, like every NATS core publish: the durable copy of
 * a result is its output topic.
 *
 * @example
 * const live = natsLiveSink('nats://127.0.0.1:4222', 'clickstream.top-pages');
 */
export function natsLiveSink<T>(url: string, subject: string): Sink<T> {
  let connection: NatsConnection | undefined;
  let inner: Sink<T> | undefined;
  let starting: Promise<void> | undefined;
  return {
    name: `nats:${subject}`,
    start() {
      starting ??= (async () => {
        connection = await connect({ servers: url, name: `tributary-example ${subject}` });
        inner = toNatsSubject<T>(subject, { connection });
      })();
      return starting;
    },
    async write(items) {
      if (!inner) throw new Error(`NATS sink ${subject} written before start`);
      await inner.write(items);
    },
    async stop() {
      const nc = connection;
      connection = undefined;
      if (nc) await nc.drain();
    },
  };
}
