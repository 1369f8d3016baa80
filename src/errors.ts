/**
 * The base of every error tributary throws. Decide with `instanceof` or {@link isRetriable},
 * never by comparing `err.name` strings.
 *
 * @example
 * try { await app.start(); }
 * catch (err) { if (err instanceof ConfigError) console.error(err.setting, err.message); }
 */
export class TributaryError extends Error {
  /** Whether trying the same thing again later may succeed (broker down, timeout). */
  readonly retriable: boolean;
  /**
   * Whether a restart cannot help: the same state or input fails the same way again (a store
   * over its memory budget). Supervisors escalate such a failure at once instead of restarting.
   */
  readonly permanent: boolean;

  constructor(message: string, options: { retriable?: boolean; permanent?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.permanent = options.permanent ?? false;
  }
}

/** A configuration value is missing or wrong. Thrown at construction or start, naming the setting. */
export class ConfigError extends TributaryError {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    // Permanent: a restart meets the same configuration (a pipeline that joins a table its
    // processor does not name fails the same way at every start), so supervisors escalate it at
    // once instead of restarting it into a crash loop.
    super(`invalid configuration '${setting}': ${message}`, { permanent: true });
  }
}

/** Where a record came from, carried by errors about that record. */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * A record could not be turned into what the pipeline expects: malformed JSON, a schema
 * violation, an oversized record, a missing timestamp. It goes to the dead-letter topic with
 * `reason`; the partition keeps flowing.
 */
export class DeserializationError extends TributaryError {
  constructor(
    readonly reason: string,
    readonly origin: RecordOrigin,
    options: { cause?: unknown } = {},
  ) {
    super(`${reason} (${origin.topic}[${origin.partition}]@${origin.offset})`, options);
  }
}

/** True when a restart cannot help: the error, or one of its causes, is {@link TributaryError.permanent}. */
export function isPermanent(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof TributaryError && e.permanent) return true;
  }
  return false;
}

/** True when retrying may help: the error says so, or its cause does. */
export function isRetriable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof TributaryError) return e.retriable;
    if ((e as { retriable?: unknown }).retriable === true) return true;
  }
  return false;
}
