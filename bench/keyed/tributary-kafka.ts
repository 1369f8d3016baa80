/**
 * tributary on Kafka running one keyed job (bench/keyed/topology.ts) until `--records` input
 * records were seen and `--outputs` results acknowledged.
 *
 * `node --import tsx bench/keyed/tributary-kafka.ts --brokers B --topic T --group G --records N
 *  --label L --job windows|tumbling|session|stateless|latency [--output O] [--outputs M]
 *  [--window-ms 10000] [--gap-ms 5000] [--partitions P] [--warmup-ms 5000] [--guarantee exactly-once]`
 *
 * Prints `READY` on stderr once P partitions have started (the latency scenario starts its
 * producer then). With `--job latency`, each acknowledged result's latency (now − the input
 * record's timestamp) is recorded, except during the first `--warmup-ms` of input event time, and
 * so is each input's arrival in the pipeline (now − its timestamp: `arrivalP50Ms`, …).
 */
import { createLogger, createTributary, KafkaConnector } from '../../src/index.js';
import { IngestMeter, parseChildArgs, report, runChild } from '../ingest/child.js';
import { arrivalSummary, Histogram } from '../lib/histogram.js';
import { JOBS, keyedProcessor, type Job } from './topology.js';

runChild(async () => {
  const args = parseChildArgs();
  const job = args.extra.job as Job;
  if (!JOBS.includes(job)) throw new Error(`--job must be one of ${JOBS.join(', ')}`);
  const outputs = Number(args.extra.outputs ?? 0);
  const partitions = Number(args.extra.partitions ?? 0);
  const warmupMs = Number(args.extra['warmup-ms'] ?? 5000);
  const meter = new IngestMeter(args.label, args.records, outputs);
  const histogram = new Histogram();
  const arrivals = new Histogram();
  let firstTs = 0;
  const logger = createLogger({ level: 'warn' });
  const processor = keyedProcessor(job, {
    // Named after the run's group: its changelogs (tumbling, session) are its own, not an earlier run's.
    id: args.group,
    groupId: args.group,
    topic: args.topic,
    output: args.extra.output,
    windowMs: Number(args.extra['window-ms'] ?? 10_000),
    gapMs: Number(args.extra['gap-ms'] ?? 5_000),
    guarantee: args.extra.guarantee === 'exactly-once' ? 'exactly-once' : undefined,
    onInput:
      job === 'latency'
        ? (ts) => {
            meter.batch(1);
            if (firstTs !== 0 && ts! >= firstTs + warmupMs) arrivals.record(Date.now() - ts!);
          }
        : () => meter.batch(1),
    onOutput:
      job === 'latency'
        ? (items) => {
            const now = Date.now();
            for (const item of items as Array<{ ts: number }>) {
              if (firstTs === 0) firstTs = item.ts;
              if (item.ts >= firstTs + warmupMs) histogram.record(now - item.ts);
            }
            meter.output(items.length);
          }
        : (items) => meter.output(items.length),
  });
  const app = createTributary({
    processors: [processor],
    log: new KafkaConnector({ brokers: args.brokers, clientId: `bench-${args.label}` }, logger),
    logger,
  });
  let pauses = 0;
  let started = 0;
  app.lifecycle.subscribe((event) => {
    if (event.type === 'partition.paused') pauses++;
    if (event.type === 'partition.started' && ++started === partitions) process.stderr.write('READY\n');
    if (event.type === 'partition.failed') {
      meter.fail(new Error(`partition ${event.topic}-${event.partition} failed at offset ${event.offset}: ${event.error.stack ?? event.error.message}`));
    }
  });
  meter.start();
  await app.start();
  const result = await meter.done;
  const latency = job === 'latency' ? { ...histogram.summary(), ...arrivalSummary(arrivals) } : undefined;
  await report({ ...result, extra: { ...result.extra, backpressurePauses: pauses, ...(latency ?? {}) } }, () => app.stop());
});
