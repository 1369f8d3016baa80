import type { Logger } from 'pino';
import type { LogConnector, LogProducer } from '../connectors/log.js';

/** What a sink gets when its processor starts. */
export interface SinkContext {
  readonly processorId: string;
  readonly log: LogConnector;
  /** The processor's shared producer on `log`. */
  readonly producer: LogProducer;
  readonly logger: Logger;
}

/**
 * Where a pipeline's results go. A result counts as delivered when `write` resolves: only then
 * may the offsets of the records that caused it be committed.
 *
 * Writes to one sink may be called again before the previous one resolved; a sink that cares
 * about order (a topic) keeps it.
 *
 * @example
 * const printed: Sink<string> = { name: 'stdout', write: async (items) => { for (const i of items) console.log(i); } };
 */
export interface Sink<T> {
  /** For logs and metrics. */
  readonly name: string;
  /** Prepare (create topics, connect). Called once before the first write. */
  start?(context: SinkContext): Promise<void>;
  /**
   * `origin` names the writer (a partition pipeline instance): a sink that keeps order must
   * not apply a write of an origin after a failed one of the same origin (see OrderedWriter).
   */
  write(items: readonly T[], origin?: string): Promise<void>;
  /** Flush and release what `start` took. */
  stop?(): Promise<void>;
}
