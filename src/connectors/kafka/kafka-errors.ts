import { TributaryError } from '../../errors.js';

/**
 * Wraps a kafkajs error: keeps it as `cause`, says what tributary was doing, and carries
 * kafkajs' own `retriable` judgement (broker unavailable, leader moved, timeouts).
 *
 * @example
 * throw kafkaError('creating topic page-views', err);
 */
export class KafkaError extends TributaryError {}

export function kafkaError(doing: string, cause: unknown): KafkaError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const retriable = (cause as { retriable?: unknown })?.retriable === true;
  return new KafkaError(`kafka: ${doing} failed: ${message}`, { retriable, cause });
}
