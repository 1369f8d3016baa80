import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../../errors.js';

/** SASL credentials for Kafka. */
export type KafkaSasl =
  | { readonly mechanism: 'plain'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'scram-sha-256'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'scram-sha-512'; readonly username: string; readonly password: string };

/** How to reach a Kafka cluster. */
export interface KafkaOptions {
  /** `host:port` of one or more brokers, e.g. `['127.0.0.1:9092']`. */
  readonly brokers: readonly string[];
  /** Default `'tributary'`. */
  readonly clientId?: string;
  /** TLS: `true` for the system CAs, or Node TLS options (ca, cert, key). Default off. */
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: KafkaSasl;
  /** SASL PLAIN sends the password in clear text; without TLS it is refused unless this is true. */
  readonly allowPlainSaslWithoutTls?: boolean;
  /** Default 5,000 ms. */
  readonly connectionTimeoutMs?: number;
  /** Default 30,000 ms. */
  readonly requestTimeoutMs?: number;
  /**
   * Consumer group session timeout. Default 10,000 ms: the fallback when the cluster does not
   * evict a dead node's members first (see docs/runtime.md "Failover"). The broker accepts
   * `group.min.session.timeout.ms` (6 s) to `group.max.session.timeout.ms` (30 min).
   */
  readonly sessionTimeoutMs?: number;
  /** Heartbeats to the group coordinator. Default 500 ms: survivors rejoin a rebalance within one. At most a third of the session timeout. */
  readonly heartbeatIntervalMs?: number;
  /** Replication factor of the topics tributary creates. Default -1: the broker's default. */
  readonly replicationFactor?: number;
  /** Fetch size bound per partition. Default 1 MiB (kafkajs' default). */
  readonly maxBytesPerPartition?: number;
  /**
   * Longest wait of a fetch for new data, and how long kafkajs sleeps when every partition is
   * paused. Default 250 ms (kafkajs' own default, 5 s, stalls a resumed partition that long).
   */
  readonly fetchMaxWaitMs?: number;
}

/** Checks Kafka options, throwing a {@link ConfigError} naming the bad setting. */
export function validateKafkaOptions(options: KafkaOptions): void {
  if (!options || !Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new ConfigError('kafka.brokers', 'give at least one broker as host:port');
  }
  for (const broker of options.brokers) {
    if (typeof broker !== 'string' || !/^[^:\s]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError('kafka.brokers', `'${String(broker)}' is not host:port`);
    }
  }
  const { sasl } = options;
  if (sasl) {
    if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(sasl.mechanism)) {
      throw new ConfigError('kafka.sasl.mechanism', `must be plain, scram-sha-256 or scram-sha-512, got '${String(sasl.mechanism)}'`);
    }
    if (typeof sasl.username !== 'string' || sasl.username.length === 0) throw new ConfigError('kafka.sasl.username', 'is required');
    if (typeof sasl.password !== 'string') throw new ConfigError('kafka.sasl.password', 'is required');
    if (sasl.mechanism === 'plain' && !options.ssl && !options.allowPlainSaslWithoutTls) {
      throw new ConfigError(
        'kafka.sasl',
        'SASL PLAIN without TLS sends the password in clear text: enable ssl, or set allowPlainSaslWithoutTls: true',
      );
    }
  }
  for (const key of ['connectionTimeoutMs', 'requestTimeoutMs', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'maxBytesPerPartition', 'fetchMaxWaitMs'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new ConfigError(`kafka.${key}`, `must be a positive integer, got ${v}`);
  }
  const session = options.sessionTimeoutMs ?? 10_000;
  const heartbeat = options.heartbeatIntervalMs ?? 500;
  if (heartbeat * 3 > session) {
    throw new ConfigError('kafka.heartbeatIntervalMs', `must be at most a third of sessionTimeoutMs (${session} ms), got ${heartbeat}`);
  }
}
