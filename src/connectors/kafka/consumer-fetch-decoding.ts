import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { decodeConsumerFetchResponse } from './fetch-response-decoder.js';
import { LegacyMessageFormatError } from './record-batch-decoder.js';

const kafkajsRequire = createRequire(import.meta.url);

interface FetchResponseModule {
  decode(rawData: Buffer): Promise<unknown>;
}

const PATCHED = Symbol.for('tributary.kafkajs.consumerFetchDecoding');
/** Set in the async context of tributary's own consumers' fetch loops, and nowhere else. */
const ownDecoding = new AsyncLocalStorage<true>();

/**
 * Runs `start` (a kafkajs `consumer.run(...)`) so that the Fetch responses of the consumer it
 * starts are decoded by {@link decodeConsumerFetchResponse} instead of kafkajs' decoder: one
 * object per record, numeric offsets and timestamps, no `Long` or string per offset (kafkajs has
 * no hook for its fetch decoding). The consumer's fetch loop inherits the async context `start`
 * runs in (kafkajs awaits each response's `decode` in the chain that sent the request), so any
 * other kafkajs consumer in the process, a user's own included, keeps kafkajs' decoder and the
 * message shape it documents. Only Fetch v11 (what kafkajs 2.2 speaks to Kafka 2.3 and later) is
 * decoded this way; an older broker gets kafkajs' decoder, and the consumer's batches then carry
 * kafkajs' messages (see `isLogRecordBatch`).
 *
 * @example
 * await withOwnFetchDecoding(() => consumer.run({ eachBatch }));
 */
export function withOwnFetchDecoding<T>(start: () => T): T {
  decodeOwnFetches();
  return ownDecoding.run(true, start);
}

/**
 * Runs `handler` (the consumer's batch handler, its event listeners) outside the switch: what it
 * starts (partition actors, user code, a user's own kafkajs consumer) keeps kafkajs' decoder.
 */
export function outsideOwnFetchDecoding<T>(handler: () => T): T {
  return ownDecoding.exit(handler);
}

/** Puts the switch into kafkajs' Fetch v11 response module (once per process). */
function decodeOwnFetches(): void {
  const module = kafkajsRequire('kafkajs/src/protocol/requests/fetch/v11/response') as FetchResponseModule & { [PATCHED]?: true };
  if (module[PATCHED]) return;
  const kafkajsDecode = module.decode.bind(module);
  module.decode = async (rawData: Buffer) => {
    if (ownDecoding.getStore() !== true) return kafkajsDecode(rawData);
    try {
      return await decodeConsumerFetchResponse(rawData);
    } catch (err) {
      // A topic in a message format before v2 (Kafka 0.10's): kafkajs' decoder reads those.
      if (err instanceof LegacyMessageFormatError) return kafkajsDecode(rawData);
      throw err;
    }
  };
  module[PATCHED] = true;
}
