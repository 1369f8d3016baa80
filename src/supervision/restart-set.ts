import type { Strategy } from './supervisor-flags.js';

/**
 * The ids restarted together when `failed` must restart, in start order: itself
 * (one-for-one), every child (one-for-all), or itself and those listed after it (rest-for-one).
 *
 * @example
 * restartSet('rest-for-one', ['kafka', 'nats', 'processor'], 'nats'); // ['nats', 'processor']
 */
export function restartSet(strategy: Strategy, ids: readonly string[], failed: string): string[] {
  switch (strategy) {
    case 'one-for-one':
      return [failed];
    case 'one-for-all':
      return [...ids];
    case 'rest-for-one': {
      const at = ids.indexOf(failed);
      return at < 0 ? [failed] : ids.slice(at);
    }
  }
}
