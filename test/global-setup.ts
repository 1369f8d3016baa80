/**
 * Global setup of the contract and integration projects: makes sure the shared Kafka and
 * NATS answer (starting them with the programmatic services:up if need be) and hands their
 * addresses to the tests through TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_NATS_URL (read them
 * with test/helpers/env.ts).
 *
 * It never stops them: the next run reuses them, `npm run services:down` stops them, and CI
 * ends every process after its run.
 */
import { ensureServices, ServiceError } from '../scripts/services/index.js';

export default async function setup(): Promise<void> {
  // kafkajs 2 warns about its default partitioner on every producer otherwise.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  try {
    const { kafka, nats } = await ensureServices({ log: (line) => console.log(`[services] ${line}`) });
    process.env.TRIBUTARY_KAFKA_BROKERS = kafka.address;
    process.env.TRIBUTARY_NATS_URL = nats.address;
  } catch (err) {
    // A ServiceError's message already says what is missing and where the log is.
    if (err instanceof ServiceError) throw new Error(`test services unavailable: ${err.message}`, { cause: err });
    throw err;
  }
}
