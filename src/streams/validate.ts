import { ConfigError } from '../errors.js';

// Construction-time checks shared by the streams operators. Each throws a ConfigError naming
// the setting as `<operator>.<option>`, so a bad value fails before anything subscribes.

export function positiveInteger(operator: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${operator}.${option}`, `must be a positive integer number of milliseconds, got ${String(value)}`);
  }
  return value;
}

export function nonNegativeInteger(operator: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a wrong value of any type, shown as it is
    throw new ConfigError(`${operator}.${option}`, `must be a non-negative integer number of milliseconds, got ${String(value)}`);
  }
  return value;
}

export function optionalFunction<F>(operator: string, option: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigError(`${operator}.${option}`, `must be a function, got ${typeof value}`);
  }
  return value;
}

export function requiredFunction<F>(operator: string, option: string, value: F | undefined): F {
  if (typeof value !== 'function') {
    throw new ConfigError(`${operator}.${option}`, `must be a function, got ${typeof value}`);
  }
  return value;
}

export function requiredObject(operator: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError(operator, `expects an options object, got ${value === null ? 'null' : typeof value}`);
  }
}
