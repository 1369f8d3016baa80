import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import type { ChildSpecOptions, RestartType } from './child-spec.js';
import type { SupervisorClock } from './clock.js';
import type { EscalationPolicy } from './supervisor-event.js';
import type { SupervisorFlagsOptions } from './supervisor-flags.js';

/**
 * What a {@link Supervisor} is made of. Only `name` is required.
 *
 * @example
 * const options: SupervisorOptions = {
 *   name: 'node',
 *   flags: { strategy: 'one-for-one', intensity: 3, periodMs: 5_000 },
 *   children: [connectors.asChild(), processors.asChild()],
 *   onEscalation: 'exit',
 * };
 */
export interface SupervisorOptions {
  /** The root's path, and the default child id of `asChild()`: `'node'`, `'processor:clicks'`. No `/`. */
  readonly name: string;
  /** Strategy, intensity, period, backoff; see {@link supervisorFlags} for the defaults. */
  readonly flags?: SupervisorFlagsOptions;
  /** The children started by `start()`, in this order. Default none. */
  readonly children?: readonly ChildSpecOptions[];
  /** What a root does when escalation reaches it. Default `'exit'`. Ignored below the root. */
  readonly onEscalation?: EscalationPolicy;
  /** How a root with `onEscalation: 'exit'` exits. Default `process.exit`; called with 1. */
  readonly exit?: (code: number) => void;
  /** Default: the parent's clock under a parent, else {@link systemClock}. */
  readonly clock?: SupervisorClock;
  /** Default: the parent's logger under a parent, else `createLogger()` (pino, JSON on stdout). */
  readonly logger?: Logger;
  /** The random source of the backoff jitter. Default: the parent's, else `Math.random`. */
  readonly random?: () => number;
}

/**
 * How a supervisor appears as the child of another one; see {@link Supervisor.asChild}.
 *
 * @example
 * processors.asChild({ shutdownTimeoutMs: 60_000 });
 */
export interface AsChildOptions {
  /** Default: the supervisor's name. */
  readonly id?: string;
  /** Default `'permanent'`. */
  readonly restart?: RestartType;
  /** How long its whole shutdown (every child of its own, one after the other) may take. Default 5,000 ms. */
  readonly shutdownTimeoutMs?: number;
}

/**
 * Checks a supervisor's options (the flags and the child specs are checked by
 * {@link supervisorFlags} and {@link childSpec}): a {@link ConfigError} naming the setting.
 */
export function checkSupervisorOptions(options: SupervisorOptions): void {
  if (typeof options !== 'object' || options === null) throw new ConfigError('supervisor', 'expects an options object');
  const { name, children = [], onEscalation = 'exit', exit, clock, random } = options;
  if (typeof name !== 'string' || name.length === 0 || name.includes('/')) {
    throw new ConfigError('supervisor.name', `must be a non-empty string without '/', got ${JSON.stringify(name)}`);
  }
  if (onEscalation !== 'exit' && onEscalation !== 'stay-down') {
    throw new ConfigError('supervisor.onEscalation', `must be 'exit' or 'stay-down', got ${JSON.stringify(onEscalation)}`);
  }
  if (exit !== undefined && typeof exit !== 'function') throw new ConfigError('supervisor.exit', `must be a function, got ${typeof exit}`);
  if (random !== undefined && typeof random !== 'function') throw new ConfigError('supervisor.random', `must be a function, got ${typeof random}`);
  if (clock !== undefined && (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function')) {
    throw new ConfigError('supervisor.clock', 'must have now(), setTimeout(fn, ms) and clearTimeout(handle)');
  }
  if (!Array.isArray(children)) throw new ConfigError('supervisor.children', `must be an array of child specifications, got ${typeof children}`);
}
