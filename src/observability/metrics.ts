import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Options of {@link TributaryMetrics}. */
export interface MetricsOptions {
  /** Where the metrics are registered. Default: a registry of their own (so several apps can share a process). */
  readonly registry?: Registry;
  /** Also collect Node's default process metrics (heap, event loop lag). Default false. */
  readonly collectDefault?: boolean;
}

/**
 * tributary's Prometheus metrics (prom-client). Counters move per batch, not per record, so they
 * cost next to nothing on the hot path.
 *
 * | metric | labels |
 * |---|---|
 * | `tributary_records_in_total` | processor, topic, partition |
 * | `tributary_records_out_total` | processor, sink |
 * | `tributary_processing_latency_seconds` | processor (fetch to sink acknowledgement, per batch) |
 * | `tributary_consumer_lag` | processor, topic, partition |
 * | `tributary_commits_total` | processor |
 * | `tributary_dead_letters_total` | processor, reason |
 * | `tributary_backpressure_pauses_total` | processor, topic, partition |
 * | `tributary_buffered_records` | processor, topic, partition |
 * | `tributary_partition_actors` | processor, state |
 * | `tributary_late_records_total` | processor, operator |
 * | `tributary_supervisor_events_total` | event, supervisor |
 * | `tributary_state_restore_records_total` | processor, store (changelog records read by restores) |
 * | `tributary_state_restore_seconds` | processor (one partition's restore, all its stores) |
 * | `tributary_state_changelog_records_total` | processor, store (records written at checkpoints) |
 * | `tributary_state_store_keys` | processor, topic, partition, store (at the last commit) |
 * | `tributary_state_store_unpartitioned` | processor, store (1: a key found in a partition it does not map to; queries fail) |
 * | `tributary_table_lag_records` | processor, topic, partition, table (updates of a `table(topic)` not taken yet, at the last commit) |
 * | `tributary_transactions_total` | processor, outcome (`committed`, `aborted`, `fenced`: exactly-once only) |
 * | `tributary_transaction_commit_seconds` | processor (one partition's commit: offsets sent, then EndTxn) |
 * | `tributary_repartition_purge_failures_total` | processor, topic (a `deleteRecords` below the committed offsets that failed) |
 *
 * @example
 * const metrics = new TributaryMetrics();
 * const text = await metrics.registry.metrics(); // Prometheus text format
 */
export class TributaryMetrics {
  readonly registry: Registry;
  readonly recordsIn: Counter<'processor' | 'topic' | 'partition'>;
  readonly recordsOut: Counter<'processor' | 'sink'>;
  readonly latency: Histogram<'processor'>;
  readonly lag: Gauge<'processor' | 'topic' | 'partition'>;
  readonly commits: Counter<'processor'>;
  readonly deadLetters: Counter<'processor' | 'reason'>;
  readonly pauses: Counter<'processor' | 'topic' | 'partition'>;
  readonly buffered: Gauge<'processor' | 'topic' | 'partition'>;
  readonly actors: Gauge<'processor' | 'state'>;
  readonly lateRecords: Counter<'processor' | 'operator'>;
  readonly supervisorEvents: Counter<'event' | 'supervisor'>;
  readonly sinkDropped: Counter<'processor' | 'sink' | 'reason'>;
  readonly stalls: Counter<'processor' | 'topic' | 'partition'>;
  readonly eventLoopLag: Gauge<'quantile'>;
  readonly restoreRecords: Counter<'processor' | 'store'>;
  readonly restoreSeconds: Histogram<'processor'>;
  readonly changelogRecords: Counter<'processor' | 'store'>;
  readonly storeKeys: Gauge<'processor' | 'topic' | 'partition' | 'store'>;
  readonly storeUnpartitioned: Gauge<'processor' | 'store'>;
  readonly standbyLag: Gauge<'processor' | 'topic' | 'partition'>;
  readonly tableLag: Gauge<'processor' | 'topic' | 'partition' | 'table'>;
  readonly transactions: Counter<'processor' | 'outcome'>;
  readonly transactionCommitSeconds: Histogram<'processor'>;
  readonly repartitionPurgeFailures: Counter<'processor' | 'topic'>;

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.collectDefault) collectDefaultMetrics({ register: this.registry });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => new Counter({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> => new Gauge({ name, help, labelNames, registers });
    const perPartition = ['processor', 'topic', 'partition'] as const;
    this.recordsIn = counter('tributary_records_in_total', 'Records taken from the log, per partition.', perPartition);
    this.recordsOut = counter('tributary_records_out_total', 'Results acknowledged by a sink.', ['processor', 'sink']);
    this.latency = new Histogram({
      name: 'tributary_processing_latency_seconds',
      help: 'Time from a batch being taken in to all its records being complete (sink acknowledged).',
      labelNames: ['processor'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lag = gauge('tributary_consumer_lag', 'Records in the partition after the last one taken in (high watermark minus position).', perPartition);
    this.commits = counter('tributary_commits_total', 'Offset commits made.', ['processor']);
    this.deadLetters = counter('tributary_dead_letters_total', 'Records sent to the dead-letter topic, by reason kind.', ['processor', 'reason']);
    this.pauses = counter('tributary_backpressure_pauses_total', 'Times a partition fetch was paused because its buffer passed the high-water mark.', perPartition);
    this.buffered = gauge('tributary_buffered_records', 'Records taken in but not yet complete, per partition.', perPartition);
    this.lateRecords = counter('tributary_late_records_total', 'Records that arrived after the window they belong to had fired (sent to the late output).', ['processor', 'operator']);
    this.supervisorEvents = counter('tributary_supervisor_events_total', 'Supervision events (child started, failed, restarting, stopped, escalated, gave up), by supervisor path.', ['event', 'supervisor']);
    this.sinkDropped = counter('tributary_sink_dropped_total', 'Items an at-most-once sink dropped (e.g. live results to NATS beyond its buffer while disconnected), by reason.', ['processor', 'sink', 'reason']);
    this.stalls = counter('tributary_partition_stalls_total', 'Partitions the watchdog found with pending work and no progress for stallTimeoutMs, failed for their supervisor to restart.', perPartition);
    this.eventLoopLag = gauge('tributary_event_loop_lag_seconds', 'Event-loop delay over the last 10 s (p99 and max), seconds: a blocked loop stalls every partition at once.', ['quantile']);
    this.actors = gauge('tributary_partition_actors', 'Partition actors by lifecycle state.', ['processor', 'state']);
    this.restoreRecords = counter('tributary_state_restore_records_total', 'Changelog records read by restores, per store.', ['processor', 'store']);
    this.restoreSeconds = new Histogram({
      name: 'tributary_state_restore_seconds',
      help: "How long a partition's restore took (all its stores).",
      labelNames: ['processor'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.changelogRecords = counter('tributary_state_changelog_records_total', 'Records written to changelogs at checkpoints, per store.', ['processor', 'store']);
    this.storeUnpartitioned = gauge('tributary_state_store_unpartitioned', 'Stores found holding a key in a partition it does not map to (1): queries of them fail, scans answer.', ['processor', 'store']);
    this.standbyLag = gauge('tributary_standby_lag_records', "Changelog records past a warm standby's local copies (what a takeover on this node would read), per partition it stands by for.", perPartition);
    this.tableLag = gauge('tributary_table_lag_records', "Updates of a table read from its topic (table(topic)) not taken yet by the stream partition of the same number, at the last commit: read ahead and waiting for the stream's time, or not read yet.", [...perPartition, 'table']);
    this.transactions = counter('tributary_transactions_total', "Transactions of the partitions' producers (exactly-once), by outcome: committed, aborted (a failure, a revoke or a stop with one open), fenced (a newer producer took the transactional id).", ['processor', 'outcome']);
    this.transactionCommitSeconds = new Histogram({
      name: 'tributary_transaction_commit_seconds',
      help: "How long one partition's transaction commit took: its input offsets sent to the group coordinator, then EndTxn.",
      labelNames: ['processor'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.repartitionPurgeFailures = counter(
      'tributary_repartition_purge_failures_total',
      "Purges of a repartition topic (its records below the stage's committed offsets deleted) that failed; the next one tries again.",
      ['processor', 'topic'],
    );
    this.storeKeys = gauge('tributary_state_store_keys', "Keys (window stores: window and key pairs) in a partition's store, at the last commit.", [...perPartition, 'store']);
  }
}
