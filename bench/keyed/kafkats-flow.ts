/**
 * The `tumbling` scenario's @kafkats/flow anchor (issue 9: "@kafkats/flow on the same
 * topology"): the closest topology @kafkats/flow 0.12 can express to a 10 s tumbling count per
 * key with final results only. It has no `suppress()` (and no grace setting): its windowed
 * `count()` is a KTable whose every update goes downstream, so this job writes one result per
 * input record (the window's running count), not one per window.
 *
 * `node --import tsx bench/keyed/kafkats-flow.ts --brokers B --topic T --group G --records N
 *  --label L --output O --outputs M --partitions P [--window-ms 10000] [--concurrency P]
 *  [--changelog false] [--commit-ms 1000] [--linger-ms L]`
 *
 * Topology (`flow({ applicationId: G, ... })`):
 *
 *   stream(T, { key: string(), offsetReset: 'earliest' })    value: Buffer
 *     .peek(count input)
 *     .filter(key !== '~flush')                    the flush records only close windows (below)
 *     .groupByKey()
 *     .windowedBy(TimeWindows.of(10 s))            tumbling: advance = size
 *     .count({ changelog: false })                 in-memory window store (its default provider)
 *     .toStream()
 *     .map(([key, window], n) => ["key@start", "n"])
 *     .through(O, { key: string(), value: string() })   awaits the broker's ack, then forwards
 *     .peek(count acknowledged update)
 *
 * `through` is `to` that forwards each record after its send resolved (`ProduceNode` with
 * `forwardAfter`): the peek after it counts acknowledged results, as the other anchors do.
 *
 * Why the flush records are filtered out: they exist so that tributary and Kafka Streams close
 * every window (event time +1 h). @kafkats/flow emits on every update, so it needs no closing;
 * and its windowed aggregation keeps one stream time for all partitions (the `cleanupState`
 * shared by the per-worker clones of the node) and drops records whose window ended more than
 * 24 window sizes (240 s) before it: one partition's flush record would make it drop the
 * records still unread on the others. The flush records are counted as inputs (as everywhere).
 *
 * The run ends when every input record was seen and every update acknowledged: N − P updates
 * (one per data record: tumbling windows, so each record is in one window). Checked: the
 * updates with count 1 (a window's first) must number `--outputs` (the distinct key × window
 * pairs: the final results of the other runs), and no update more than N − P may arrive.
 *
 * Settings, and why (@kafkats/flow's defaults in brackets):
 * - `runEach.partitionConcurrency` = P [1]: flow's `runEach` handler awaits each record's whole
 *   path (store get/put, then the output's `producer.send`, which resolves on the broker's
 *   ack) before the next record of the partition; with 1, one record in flight for the whole
 *   process. P lets each partition have one in flight (10,000 records, profiled: 3,590
 *   records/s with 1, 8,412 with 12).
 * - producer `lingerMs` [5], left alone: it does not apply here. `producer.send()` of one
 *   message appends it and flushes at once (`RecordAccumulator.endAppendTransaction`), so each
 *   update is a produce request of its own (100,000 records: lingerMs 0, 1 and 5 gave 59, 56
 *   and 57 CPU-s per million). `--linger-ms` sets it anyway.
 * - `autoCommitIntervalMs` 1000 [5000]: tributary's and Kafka Streams' commit interval here.
 * - `changelog: false` [true]: no changelog topic for the window store, like
 *   `kafka-streams-nolog` (with it, each update also awaits a changelog `send`).
 * - at_least_once [default], acks 'all' [default], isolation read_committed [default],
 *   `maxBytesPerPartition` 1 MiB [default], `maxWaitMs` 250 [5000] (tributary's), one worker
 *   (`numStreamThreads` 1, the default; one Node thread anyway).
 */
import { flow, string, TimeWindows } from '@kafkats/flow';
import { FLUSH_KEY } from '../lib/dataset.js';
import { IngestMeter, parseChildArgs, report, runChild } from '../ingest/child.js';

runChild(async () => {
  const args = parseChildArgs();
  const output = args.extra.output;
  if (!output) throw new Error('missing --output');
  const partitions = Number(args.extra.partitions ?? 0);
  if (!(partitions > 0)) throw new Error('missing --partitions');
  const finals = Number(args.extra.outputs ?? 0);
  const windowMs = Number(args.extra['window-ms'] ?? 10_000);
  const lingerMs = args.extra['linger-ms'] === undefined ? undefined : Number(args.extra['linger-ms']);
  const concurrency = Number(args.extra.concurrency ?? partitions);
  const commitMs = Number(args.extra['commit-ms'] ?? 1000);
  const changelog = (args.extra.changelog ?? 'false') === 'true';
  // One update per data record; the flush records (one per partition) are filtered out.
  const updates = args.records - partitions;
  const meter = new IngestMeter(args.label, args.records, updates);
  let firstUpdates = 0;

  const app = flow({
    applicationId: args.group,
    client: { brokers: args.brokers, clientId: `bench-${args.label.replace(/[^A-Za-z0-9._-]+/g, '-')}`, logLevel: 'warn' },
    processingGuarantee: 'at_least_once',
    consumer: { maxBytesPerPartition: 1_048_576, maxWaitMs: 250, sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3_000 },
    producer: { acks: 'all', ...(lingerMs === undefined ? {} : { lingerMs }) },
    runEach: { partitionConcurrency: concurrency, autoCommitIntervalMs: commitMs },
  });
  app
    .stream(args.topic, { key: string(), offsetReset: 'earliest' })
    .peek(() => meter.batch(1))
    .filter((key) => key !== FLUSH_KEY)
    .groupByKey()
    .windowedBy(TimeWindows.of(windowMs))
    .count({ changelog })
    .toStream()
    .map((wk, n): readonly [string, string] => [`${wk!.key}@${wk!.window.start}`, String(n)])
    .through(output, { key: string(), value: string() })
    .peek((_key, n) => {
      if (n === '1') firstUpdates++;
      meter.output(1);
    });

  meter.start();
  await app.start();
  const watch = setInterval(() => {
    if (app.state() === 'ERROR') meter.fail(new Error(`@kafkats/flow app in state ERROR: ${String((app as { getError?: () => unknown }).getError?.() as string | undefined ?? 'no error recorded')}`));
  }, 500);
  watch.unref();
  const result = await meter.done;
  clearInterval(watch);
  if (finals > 0 && firstUpdates !== finals) {
    throw new Error(`${args.label}: ${firstUpdates} windows got a first update (count 1), expected ${finals} (key × window pairs)`);
  }
  await report(
    {
      ...result,
      extra: { ...result.extra, updates, windows: firstUpdates, ...(lingerMs === undefined ? {} : { lingerMs }), partitionConcurrency: concurrency, changelog: changelog ? 1 : 0 },
    },
    () => app.close(),
  );
});
