import { ConfigError } from '../errors.js';

/** Exponential backoff between restarts. */
export interface BackoffOptions {
  /** First delay. Default 100 ms. */
  readonly minMs?: number;
  /** Cap. Default 10,000 ms. */
  readonly maxMs?: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** Random spread, as a fraction of the delay (0.2 = ±20%). Default 0.2. */
  readonly jitter?: number;
}

/**
 * The delay before restart number `attempt` (0 for the first): `min × factor^attempt`, capped
 * at `max`, spread by ±`jitter`. With the defaults: about 100 ms, 200 ms, 400 ms, 800 ms, ...,
 * capped at 10 s. A pure function: pass `random` to make it deterministic.
 *
 * @example
 * backoffDelay(3, { minMs: 100, maxMs: 10_000, factor: 2, jitter: 0 }); // 800
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { minMs = 100, maxMs = 10_000, factor = 2, jitter = 0.2 } = options;
  if (!(minMs >= 0)) throw new ConfigError('backoff.minMs', `must be >= 0, got ${minMs}`);
  if (!(maxMs >= minMs)) throw new ConfigError('backoff.maxMs', `must be >= minMs (${minMs}), got ${maxMs}`);
  if (!(factor >= 1)) throw new ConfigError('backoff.factor', `must be >= 1, got ${factor}`);
  if (!(jitter >= 0 && jitter <= 1)) throw new ConfigError('backoff.jitter', `must be within [0, 1], got ${jitter}`);
  const base = Math.min(maxMs, minMs * Math.pow(factor, Math.max(0, attempt)));
  const spread = base * jitter * (2 * random() - 1);
  return Math.max(0, Math.min(maxMs, Math.round(base + spread)));
}
