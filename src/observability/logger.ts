import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level. Default: `TRIBUTARY_LOG_LEVEL` from the environment, else `'info'`. */
  readonly level?: string;
  /** Static fields on every line, e.g. `{ node: 'worker-1' }`. */
  readonly base?: Record<string, unknown>;
}

/**
 * The structured logger every tributary component writes to: JSON lines on stdout (pino), one
 * child per component carrying its context (`processor`, `topic`, `partition`, `offset`).
 *
 * @example
 * const log = createLogger({ level: 'debug' });
 * log.child({ processor: 'clickstream', topic: 'clicks', partition: 0 }).info('partition assigned');
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    name: 'tributary',
    level: options.level ?? process.env.TRIBUTARY_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...options.base },
  });
}
