/**
 * One nexmark query alone, on Kafka: the `nexmark-kafka` scenario's tributary run.
 *
 * `node --import tsx bench/nexmark/nexmark-kafka-query.ts --brokers B --topic BIDS --persons T --auctions T
 *  --group PREFIX --query q7 --output O --partitions N --records R --outputs M --label L`
 *
 * `--topic` is the bids topic, `--group` the prefix of the processors' groups and internal topics.
 *
 * The example app's processors for that one output (`nexmarkQueryProcessors`: the source stage,
 * reading and validating all three input topics, and only the stages that output needs; their
 * repartition topics and changelogs on Kafka, named with `--prefix`), the output written to the
 * topic `--output` as the command line writes it (JSON values). Window: the first partition
 * started (after the group join, as Kafka Streams' window opens at its first record) →
 * `finishInput()` resolved (every input read, every window fired, every result acknowledged and
 * committed). The run fails unless exactly `--outputs` results were written.
 */
import { performance } from 'node:perf_hooks';
import { createLogger, createTributary, KafkaConnector, toFunction, type Sink } from '../../src/index.js';
import { NEXMARK_OUTPUTS, nexmarkQueryProcessors, type NexmarkOutput } from '../../examples/nexmark/app.js';
import { NEXMARK_TOPICS } from '../../examples/nexmark/events.js';
import { outputSink } from '../../examples/shared/result-sinks.js';
import { parseChildArgs, report, runChild } from '../ingest/child.js';

runChild(async () => {
  const args = parseChildArgs();
  const { extra, label } = args;
  const query = extra.query as NexmarkOutput;
  if (!NEXMARK_OUTPUTS.includes(query)) throw new Error(`--query must be one of ${NEXMARK_OUTPUTS.join(', ')}, not '${extra.query}'`);
  const partitions = Number(extra.partitions);
  const expected = Number(extra.outputs);
  const logger = createLogger({ level: 'warn' });

  let outputs = 0;
  let late = 0;
  const written = outputSink(extra.output, partitions);
  const counted: Sink<unknown> = {
    ...written,
    write: async (items) => {
      await written.write(items);
      outputs += items.length;
    },
  };
  const sinks: Record<string, Sink<unknown>> = { late: toFunction('late', (items) => void (late += items.length)) };
  for (const output of NEXMARK_OUTPUTS) sinks[output] = output === query ? counted : toFunction(output, () => undefined);
  const app = createTributary({
    log: new KafkaConnector({ brokers: args.brokers, clientId: `bench-${label}` }, logger.child({}, { level: 'fatal' })),
    logger,
    processors: nexmarkQueryProcessors(
      {
        prefix: args.group,
        inputTopic: args.topic,
        inputTopics: { [NEXMARK_TOPICS.person]: extra.persons, [NEXMARK_TOPICS.auction]: extra.auctions, [NEXMARK_TOPICS.bid]: args.topic },
        partitions,
        outOfOrdernessMs: 5_000,
        sinks,
      },
      [query],
    ),
  });
  let failures = 0;
  let started = 0;
  let startUs = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  const startedAt = performance.now();
  let windowStarted = 0;
  app.lifecycle.subscribe((event) => {
    if (event.type === 'partition.failed') {
      failures++;
      process.stderr.write(`${label}: partition ${event.topic}-${event.partition} failed: ${event.error.message}\n`);
    }
    if (event.type === 'partition.started' && started++ === 0) {
      cpu0 = process.cpuUsage();
      windowStarted = performance.now();
      startUs = Number(process.hrtime.bigint() / 1000n);
    }
  });
  const progress = setInterval(() => process.stderr.write(`${label}: ${outputs} / ${expected} results\n`), 2_000);
  await app.start();
  await app.finishInput({ timeoutMs: 600_000 });
  clearInterval(progress);
  const cpu = process.cpuUsage(cpu0);
  const end = performance.now();
  const endUs = Number(process.hrtime.bigint() / 1000n);
  if (failures > 0) throw new Error(`${label}: ${failures} partition failures`);
  if (outputs !== expected) throw new Error(`${label}: ${outputs} results written, the reference has ${expected}`);
  if (late !== 0) throw new Error(`${label}: ${late} late records in an input whose disorder is within the bound`);
  const total = process.cpuUsage();
  await report(
    {
      label,
      records: args.records,
      firstBatchRecords: 0,
      seconds: (end - windowStarted) / 1000,
      totalSeconds: (end - startedAt) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      processCpuSeconds: (total.user + total.system) / 1e6,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      windowStartUs: startUs,
      windowEndUs: endUs,
      extra: { outputs },
    },
    () => app.stop(),
  );
});
