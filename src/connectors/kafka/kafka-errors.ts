import kafkajs from 'kafkajs';
import { TributaryError } from '../../errors.js';

/**
 * A kafkajs error, wrapped: keeps it as `cause`, says what tributary was doing, and whether
 * trying again later may help (broker unavailable, leader moved, timeouts).
 *
 * @example
 * throw kafkaError('creating topic page-views', err);
 */
export class KafkaError extends TributaryError {}

// kafkajs (CommonJS) spreads its error classes into its exports, which Node's ESM loader cannot
// see as named exports: take them from the default export.
const { KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError } = kafkajs;

/**
 * The broker's answers that end an idempotent producer's session for good in kafkajs (it keeps
 * its producer id and sequence numbers, and every later send fails the same way, kafkajs#598):
 * after a broker restart, or when the broker expired the producer's state.
 */
const LOST_PRODUCER_SESSION = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** Whether a kafkajs send failed because the idempotent producer's session is lost (see {@link LOST_PRODUCER_SESSION}). */
export function lostProducerSession(cause: unknown): boolean {
  let e: unknown = cause;
  for (let depth = 0; e && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && LOST_PRODUCER_SESSION.has(type)) return true;
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether a kafkajs error is worth retrying later. kafkajs gives up after its own retries with
 * `KafkaJSNumberOfRetriesExceeded`, which it marks non-retriable even when the cause (a broker
 * that is down) is: tributary judges by the cause.
 */
export function kafkaRetriable(cause: unknown): boolean {
  let e: unknown = cause;
  for (let depth = 0; e && depth < 5; depth++) {
    if ((e as { retriable?: unknown }).retriable === true) return true;
    if (!(e instanceof KafkaJSNumberOfRetriesExceeded || e instanceof KafkaJSNonRetriableError)) return false;
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

export function kafkaError(doing: string, cause: unknown): KafkaError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new KafkaError(`kafka: ${doing} failed: ${message}`, { retriable: kafkaRetriable(cause), cause });
}
