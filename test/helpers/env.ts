/**
 * Addresses of the shared test services, as test/global-setup.ts exported them (or as the
 * caller set them), with the services:up defaults.
 */

/** kafkajs `brokers`: `TRIBUTARY_KAFKA_BROKERS` (comma-separated), default 127.0.0.1:9092. */
export function kafkaBrokers(): string[] {
  return (process.env.TRIBUTARY_KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
}

/** NATS `servers`: `TRIBUTARY_NATS_URL`, default nats://127.0.0.1:4222. */
export function natsUrl(): string {
  return process.env.TRIBUTARY_NATS_URL ?? 'nats://127.0.0.1:4222';
}
