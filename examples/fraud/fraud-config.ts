import { z } from 'zod';
import { ConfigError } from 'tributary';

/**
 * The thresholds of the four fraud rules. Every number is a safe integer (amounts in cents,
 * windows in ms); see {@link DEFAULT_FRAUD_CONFIG} for the values of the spec.
 *
 * @example
 * const stricter: FraudConfig = { ...DEFAULT_FRAUD_CONFIG, velocity: { count: 3, windowMs: 60_000 } };
 */
export interface FraudConfig {
  /** `velocity`: the transaction is at least the `count`-th of its card with timestamp in `(ts − windowMs, ts]`. */
  readonly velocity: { readonly count: number; readonly windowMs: number };
  /**
   * `amount-spike`: the card has at least `minEarlier` earlier transactions and
   * `amount × n > multiplier × sum` over its (up to) `history` most recent earlier ones.
   */
  readonly amountSpike: { readonly minEarlier: number; readonly history: number; readonly multiplier: number };
  /** `impossible-travel`: the previous transaction was in another country, at most `windowMs` earlier. */
  readonly impossibleTravel: { readonly windowMs: number };
  /**
   * `card-testing`: an amount of at least `largeMin` at most `windowMs` after an earlier
   * transaction of at most `smallMax` at a different merchant.
   */
  readonly cardTesting: { readonly largeMin: number; readonly smallMax: number; readonly windowMs: number };
}

/**
 * The spec's thresholds: 5 in 60,000 ms; 3 earlier, 20 most recent, 5×; 3,600,000 ms;
 * 50,000 / 200 cents within 600,000 ms.
 *
 * @example
 * DEFAULT_FRAUD_CONFIG.velocity.count; // 5
 */
export const DEFAULT_FRAUD_CONFIG: FraudConfig = Object.freeze({
  velocity: Object.freeze({ count: 5, windowMs: 60_000 }),
  amountSpike: Object.freeze({ minEarlier: 3, history: 20, multiplier: 5 }),
  impossibleTravel: Object.freeze({ windowMs: 3_600_000 }),
  cardTesting: Object.freeze({ largeMin: 50_000, smallMax: 200, windowMs: 600_000 }),
});

const positive = z.number().int().min(1);
const nonNegative = z.number().int().min(0);
const amount = z.number().int();

/**
 * A complete {@link FraudConfig}, strictly: unknown keys (a typo such as `velocityCount`) are
 * refused. What the NATS broadcast carries.
 *
 * @example
 * FraudConfigSchema.safeParse({ ...DEFAULT_FRAUD_CONFIG, velocity: { count: 0, windowMs: 1 } }).success; // false
 */
export const FraudConfigSchema: z.ZodType<FraudConfig> = z.strictObject({
  velocity: z.strictObject({ count: positive, windowMs: nonNegative }),
  amountSpike: z.strictObject({ minEarlier: nonNegative, history: positive, multiplier: positive }),
  impossibleTravel: z.strictObject({ windowMs: nonNegative }),
  cardTesting: z.strictObject({ largeMin: amount, smallMax: amount, windowMs: nonNegative }),
});

/**
 * Some thresholds of a {@link FraudConfig}: what {@link resolveFraudConfig} fills in.
 *
 * @example
 * const overrides: FraudConfigOverrides = { cardTesting: { largeMin: 20_000 } };
 */
export type FraudConfigOverrides = {
  readonly [G in keyof FraudConfig]?: { readonly [S in keyof FraudConfig[G]]?: number };
};

/**
 * `overrides` over `base` (default {@link DEFAULT_FRAUD_CONFIG}), validated: a wrong value
 * throws a {@link ConfigError} naming the setting, e.g.
 * `invalid configuration 'fraud.velocity.count': must be an integer >= 1, got 0`.
 *
 * @example
 * resolveFraudConfig({ velocity: { count: 3 } }); // the defaults, with velocity.count 3
 * resolveFraudConfig({ amountSpike: { multiplier: 2.5 } }); // throws: must be an integer
 */
export function resolveFraudConfig(overrides: unknown = {}, base: FraudConfig = DEFAULT_FRAUD_CONFIG): FraudConfig {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ConfigError('fraud', `must be an object of threshold groups, got ${JSON.stringify(overrides)}`);
  }
  const merged: Record<string, unknown> = {};
  for (const [group, settings] of Object.entries(overrides as Record<string, unknown>)) {
    if (!(group in base)) {
      throw new ConfigError(`fraud.${group}`, `unknown rule (expected one of ${Object.keys(base).join(', ')})`);
    }
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      throw new ConfigError(`fraud.${group}`, `must be an object, got ${JSON.stringify(settings)}`);
    }
    merged[group] = { ...(base as unknown as Record<string, object>)[group], ...settings };
  }
  return validateFraudConfig({ ...base, ...merged });
}

/**
 * Checks a complete configuration; throws a {@link ConfigError} naming the first wrong setting.
 *
 * @example
 * validateFraudConfig(JSON.parse(text)); // a FraudConfig, or throws
 */
export function validateFraudConfig(config: unknown): FraudConfig {
  const result = FraudConfigSchema.safeParse(config);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const setting = ['fraud', ...issue.path.map(String)].join('.');
  const got = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], config);
  throw new ConfigError(setting, `${describe(issue)}, got ${JSON.stringify(got) ?? String(got)}`);
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_small') return `must be an integer >= ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return 'must be a safe integer (at most 2^53 - 1)';
  if (issue.code === 'invalid_type' && issue.expected !== 'object') return 'must be an integer';
  if (issue.code === 'unrecognized_keys') return `unknown setting(s) ${issue.keys.join(', ')}`;
  return issue.message;
}
