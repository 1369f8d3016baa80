/**
 * tributary's identity pipeline on Kafka, through the public API only: `createTributary`,
 * `defineProcessor`, `KafkaConnector`, a `toFunction` sink that counts. `--value bytes` uses the
 * `bytes()` serde (no decoding); `--value json` uses `json()`, the default a user gets when
 * the values are JSON. Keys use the default `string()` serde (the records have null keys).
 */
import { bytes, createLogger, createTributary, defineProcessor, json, KafkaConnector, toFunction } from '../../src/index.js';
import { IngestMeter, parseChildArgs, report, runChild } from './child.js';

runChild(async () => {
  const args = parseChildArgs();
  const valueSerde = (args.extra.value ?? 'bytes') === 'json' ? json() : bytes();
  const meter = new IngestMeter(args.label, args.records);
  const logger = createLogger({ level: 'warn' });
  const processor = defineProcessor({
    id: 'bench-ingest',
    groupId: args.group,
    source: { topics: args.topic, value: valueSerde },
    pipeline: (records) => records,
    sinks: toFunction<unknown>('count', (items) => meter.batch(items.length)),
    deadLetters: { topic: `${args.topic}.dlq` },
  });
  const app = createTributary({
    processors: [processor],
    log: new KafkaConnector({ brokers: args.brokers, clientId: `bench-${args.label}` }, logger),
    logger,
  });
  // The identity pipeline has no reason to fail: a failed partition is a bug, reported at once.
  let pauses = 0;
  app.lifecycle.subscribe((event) => {
    if (event.type === 'partition.paused') pauses++;
    if (event.type === 'partition.failed') {
      meter.fail(new Error(`partition ${event.topic}-${event.partition} failed at offset ${event.offset}: ${event.error.stack ?? event.error.message}`));
    }
  });
  meter.start();
  await app.start();
  const result = await meter.done;
  await report({ ...result, extra: { ...result.extra, backpressurePauses: pauses } }, () => app.stop());
});
