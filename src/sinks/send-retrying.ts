import { isRetriable } from '../errors.js';
import { backoffDelay } from '../supervision/backoff.js';

/**
 * Sends, retrying errors that say retrying may help (a broker down, a leader moving) with
 * backoff (100 ms doubling to 5 s) for as long as it takes: the records wait in order, the
 * partition's buffer fills and its fetch pauses, nothing is lost. Other errors fail the write
 * (and the partition actor, whose supervisor decides).
 *
 * @example
 * await sendRetrying(() => producer.send('out', records), { stopped: () => false, onRetry: (err) => log.warn({ err }) });
 */
export async function sendRetrying(
  send: () => Promise<void>,
  options: { stopped: () => boolean; onRetry: (err: unknown, attempt: number, delayMs: number) => void },
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (err) {
      if (!isRetriable(err) || options.stopped()) throw err;
      const delayMs = backoffDelay(attempt, { minMs: 100, maxMs: 5_000 });
      options.onRetry(err, attempt + 1, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
