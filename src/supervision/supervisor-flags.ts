import { ConfigError } from '../errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';

/**
 * Which children restart when one of them must be restarted (OTP's strategies):
 * - `'one-for-one'`: only that child;
 * - `'one-for-all'`: every child: the others are stopped (in reverse order), then all are started
 *   again in order. For children that cannot run without each other;
 * - `'rest-for-one'`: that child and the children listed after it: those are stopped (in reverse
 *   order), then all are started again in order. For children that depend on the ones before them.
 *
 * @example
 * supervisorFlags({ strategy: 'rest-for-one' }); // a connection first, then the consumers using it
 */
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/**
 * Supervisor flags as written; every field is optional. Validated and defaulted by
 * {@link supervisorFlags}.
 *
 * @example
 * const flags: SupervisorFlagsOptions = { strategy: 'one-for-all', intensity: 5, periodMs: 10_000 };
 */
export interface SupervisorFlagsOptions {
  /** Default `'one-for-one'`. */
  readonly strategy?: Strategy;
  /** At most this many restarts within `periodMs`; one more and the supervisor escalates. Default 3. 0: the first restart escalates. */
  readonly intensity?: number;
  /** The restart-intensity window. Default 5,000 ms. */
  readonly periodMs?: number;
  /** Delay before each restart: restart number n (1-based) of a child waits `backoffDelay(n - 1, backoff)`. Defaults of {@link backoffDelay}: 100 ms doubling to 10 s, ±20%. */
  readonly backoff?: BackoffOptions;
  /** A child that has run this long without failing starts its backoff over at 100 ms. Default 30,000 ms. */
  readonly resetAfterMs?: number;
}

/**
 * Validated supervisor flags with every default applied. Immutable data: the supervisor
 * mechanism reads it, never changes it.
 *
 * @example
 * const flags: SupervisorFlags = supervisorFlags();
 * flags.intensity; // 3
 */
export interface SupervisorFlags {
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff: BackoffOptions;
  readonly resetAfterMs: number;
}

/**
 * The defaults of {@link supervisorFlags}: one-for-one, at most 3 restarts within 5,000 ms, the
 * backoff of {@link backoffDelay} (100 ms doubling to 10 s, ±20%), reset after 30,000 ms stable.
 *
 * @example
 * supervisorFlags({ intensity: DEFAULT_SUPERVISOR_FLAGS.intensity * 2 }); // 6 restarts within 5 s
 */
export const DEFAULT_SUPERVISOR_FLAGS: SupervisorFlags = Object.freeze({
  strategy: 'one-for-one',
  intensity: 3,
  periodMs: 5_000,
  backoff: Object.freeze({}),
  resetAfterMs: 30_000,
});

const STRATEGIES: readonly Strategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];

/**
 * Validates supervisor flags and applies their defaults (see {@link DEFAULT_SUPERVISOR_FLAGS}).
 * Throws a {@link ConfigError} naming the setting: `supervisor.strategy`, `supervisor.intensity`,
 * `supervisor.periodMs`, `supervisor.resetAfterMs`, `supervisor.backoff.minMs` (and the other backoff options).
 *
 * With the defaults a child that keeps failing is restarted after about 100 ms, 200 ms and
 * 400 ms; its fourth failure within 5 s makes the supervisor stop every child and fail to its parent.
 *
 * @example
 * const flags = supervisorFlags({ strategy: 'rest-for-one', intensity: 10, periodMs: 60_000, backoff: { maxMs: 30_000 } });
 * supervisorFlags({ intensity: -1 }); // throws ConfigError: invalid configuration 'supervisor.intensity'
 */
export function supervisorFlags(options: SupervisorFlagsOptions = {}): SupervisorFlags {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('supervisor', `expects a flags object, got ${options === null ? 'null' : typeof options}`);
  }
  const d = DEFAULT_SUPERVISOR_FLAGS;
  const { strategy = d.strategy, intensity = d.intensity, periodMs = d.periodMs, backoff = d.backoff, resetAfterMs = d.resetAfterMs } = options;
  if (!STRATEGIES.includes(strategy)) {
    throw new ConfigError('supervisor.strategy', `must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
  if (typeof intensity !== 'number' || !Number.isSafeInteger(intensity) || intensity < 0) {
    throw new ConfigError('supervisor.intensity', `must be a non-negative integer number of restarts, got ${String(intensity)}`);
  }
  if (typeof periodMs !== 'number' || !Number.isSafeInteger(periodMs) || periodMs <= 0) {
    throw new ConfigError('supervisor.periodMs', `must be a positive integer number of milliseconds, got ${String(periodMs)}`);
  }
  if (typeof resetAfterMs !== 'number' || !Number.isSafeInteger(resetAfterMs) || resetAfterMs <= 0) {
    throw new ConfigError('supervisor.resetAfterMs', `must be a positive integer number of milliseconds, got ${String(resetAfterMs)}`);
  }
  if (typeof backoff !== 'object' || backoff === null) {
    throw new ConfigError('supervisor.backoff', `must be an options object, got ${backoff === null ? 'null' : typeof backoff}`);
  }
  try {
    backoffDelay(0, backoff, () => 0.5); // the pure function is the validator too
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`supervisor.${err.setting}`, err.message.replace(/^invalid configuration '[^']*': /, ''));
    throw err;
  }
  return Object.freeze({ strategy, intensity, periodMs, backoff: Object.freeze({ ...backoff }), resetAfterMs });
}
