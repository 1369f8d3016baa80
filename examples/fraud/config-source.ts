import { Observable, map } from 'rxjs';
import { BroadcastState, TributaryError, type BroadcastStateOptions, type Logger } from 'tributary';
import { FraudConfigSchema, type FraudConfig } from './fraud-config.js';

/**
 * A configuration in force, and where it came from.
 *
 * @example
 * source.configs.subscribe(({ config, revision }: AppliedFraudConfig) => console.log(revision, config.velocity.count));
 */
export interface AppliedFraudConfig {
  readonly config: FraudConfig;
  /** 0 for the built-in (or given) base configuration; the broadcast's KV revision otherwise. */
  readonly revision: number;
  /** `'base'`, or the publisher of the broadcast value. */
  readonly origin: string;
}

/**
 * Where partitions get their thresholds: `configs` emits the configuration in force at once on
 * subscription (synchronously), then every new one.
 *
 * @example
 * const fixed = fixedFraudConfig(resolveFraudConfig({ velocity: { count: 3 } }));
 */
export interface FraudConfigSource {
  readonly configs: Observable<AppliedFraudConfig>;
}

/**
 * A configuration that never changes.
 *
 * @example
 * detectFraud({ context, config: fixedFraudConfig(DEFAULT_FRAUD_CONFIG) });
 */
export function fixedFraudConfig(config: FraudConfig): FraudConfigSource {
  return { configs: new Observable((subscriber) => subscriber.next({ config, revision: 0, origin: 'base' })) };
}

/**
 * Options of {@link BroadcastFraudConfig}.
 *
 * @example
 * const options: BroadcastFraudConfigOptions = { servers: 'nats://127.0.0.1:4222', cluster: 'shop1', base: DEFAULT_FRAUD_CONFIG };
 */
export interface BroadcastFraudConfigOptions {
  readonly servers: string | readonly string[];
  /** The cluster (broadcast namespace): `tributary.<cluster>.broadcast.<name>`. */
  readonly cluster: string;
  /** Default `fraud-config`. */
  readonly name?: string;
  /** In force until a value is published (and when the published one is invalid from the start). */
  readonly base: FraudConfig;
  readonly logger?: Logger;
  /** Passed to the NATS connection (authentication, TLS). */
  readonly connectionOptions?: BroadcastStateOptions<FraudConfig>['connectionOptions'];
}

/**
 * Fraud thresholds from a NATS broadcast ({@link BroadcastState} of {@link FraudConfigSchema}):
 * the base configuration until a value is published, then each published value, on every
 * node. {@link open} must resolve before a partition subscribes to {@link configs}.
 *
 * @example
 * const source = new BroadcastFraudConfig({ servers: 'nats://127.0.0.1:4222', cluster: 'payments', base: DEFAULT_FRAUD_CONFIG });
 * await source.open();
 * source.configs.subscribe(({ revision }) => console.log('thresholds revision', revision));
 * await source.close();
 */
export class BroadcastFraudConfig implements FraudConfigSource {
  readonly configs: Observable<AppliedFraudConfig>;
  private state: BroadcastState<FraudConfig> | undefined;
  private opening: Promise<BroadcastState<FraudConfig>> | undefined;

  constructor(private readonly options: BroadcastFraudConfigOptions) {
    const base: AppliedFraudConfig = { config: options.base, revision: 0, origin: 'base' };
    this.configs = new Observable<AppliedFraudConfig>((subscriber) => {
      const state = this.state;
      if (state === undefined) {
        subscriber.error(new TributaryError('fraud thresholds: the NATS broadcast is not open yet (call open() first)'));
        return undefined;
      }
      if (state.latest() === undefined) subscriber.next(base);
      return state.changes
        .pipe(map((v): AppliedFraudConfig => ({ config: v.value, revision: v.revision, origin: v.publisher })))
        .subscribe(subscriber);
    });
  }

  /** The broadcast, once open. */
  get broadcast(): BroadcastState<FraudConfig> | undefined {
    return this.state;
  }

  /** Connects and reads the latest published thresholds. Idempotent. */
  async open(logger: Logger | undefined = this.options.logger): Promise<void> {
    this.opening ??= BroadcastState.open<FraudConfig>({
      servers: this.options.servers,
      cluster: this.options.cluster,
      name: this.options.name ?? 'fraud-config',
      schema: FraudConfigSchema,
      logger,
      connectionOptions: { name: `tributary-fraud-${this.options.cluster}`, ...this.options.connectionOptions },
    });
    this.state = await this.opening;
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    this.state = undefined;
    if (opening) await (await opening.catch(() => undefined))?.close();
  }
}
