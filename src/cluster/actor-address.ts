/**
 * Where an actor lives in the cluster: a node and a path on it. Paths are handler names
 * (`'echo'`, `'fraud/rules'`) or partition actors
 * (`'processor:clicks/partition:clicks-0'`, see {@link partitionPath}).
 *
 * @example
 * const address: ActorAddress = { node: 'worker-2', path: partitionPath('clicks', 'clicks', 0) };
 */
export interface ActorAddress {
  readonly node: string;
  readonly path: string;
}

/**
 * Longest actor path accepted.
 *
 * @example
 * if (path.length > MAX_PATH_LENGTH) throw new Error('path too long');
 */
export const MAX_PATH_LENGTH = 512;

/**
 * The path of the actor of one partition of a processor, the same name the processor's
 * supervisor gives it: `processor:<id>/partition:<topic>-<partition>`.
 *
 * @example
 * partitionPath('page-views', 'clicks', 3); // 'processor:page-views/partition:clicks-3'
 */
export function partitionPath(processor: string, topic: string, partition: number): string {
  return `processor:${processor}/partition:${topic}-${partition}`;
}

/**
 * The handler pattern that receives messages for every partition actor of a processor:
 * `processor:<id>/partition:*`.
 *
 * @example
 * node.registerPartitionHandler('page-views', handler); // registers partitionPattern('page-views')
 */
export function partitionPattern(processor: string): string {
  return `processor:${processor}/partition:*`;
}

/**
 * Reads a partition actor path back; undefined for any other path.
 *
 * @example
 * parsePartitionPath('processor:page-views/partition:clicks-3'); // { processor: 'page-views', topic: 'clicks', partition: 3 }
 */
export function parsePartitionPath(path: string): { processor: string; topic: string; partition: number } | undefined {
  const match = /^processor:([^/]+)\/partition:(.+)-(\d+)$/.exec(path);
  if (!match) return undefined;
  return { processor: match[1], topic: match[2], partition: Number(match[3]) };
}

/**
 * Whether a registered handler name takes messages for `path`: the same string, or a pattern
 * ending in `*` that `path` starts with (before the `*`).
 *
 * @example
 * handlerMatches('processor:p/partition:*', 'processor:p/partition:t-0'); // true
 */
export function handlerMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}

/**
 * Whether `path` is a usable actor path: 1 to 512 characters, no control characters.
 *
 * @example
 * isValidPath('processor:clicks/partition:clicks-0'); // true
 * isValidPath(''); // false
 */
export function isValidPath(path: unknown): path is string {
  // eslint-disable-next-line no-control-regex
  return typeof path === 'string' && path.length > 0 && path.length <= MAX_PATH_LENGTH && !/[\u0000-\u001f\u007f]/.test(path);
}
