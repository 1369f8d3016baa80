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
  readonly restoreRecords: Counter<'processor' | 'store'>;
  readonly restoreSeconds: Histogram<'processor'>;
  readonly changelogRecords: Counter<'processor' | 'store'>;
  readonly storeKeys: Gauge<'processor' | 'topic' | 'partition' | 'store'>;

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.collectDefault) collectDefaultMetrics({ register: this.registry });
    this.recordsIn = new Counter({
      name: 'tributary_records_in_total',
      help: 'Records taken from the log, per partition.',
      labelNames: ['processor', 'topic', 'partition'],
      registers,
    });
    this.recordsOut = new Counter({
      name: 'tributary_records_out_total',
      help: 'Results acknowledged by a sink.',
      labelNames: ['processor', 'sink'],
      registers,
    });
    this.latency = new Histogram({
      name: 'tributary_processing_latency_seconds',
      help: 'Time from a batch being taken in to all its records being complete (sink acknowledged).',
      labelNames: ['processor'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lag = new Gauge({
      name: 'tributary_consumer_lag',
      help: 'Records in the partition after the last one taken in (high watermark minus position).',
      labelNames: ['processor', 'topic', 'partition'],
      registers,
    });
    this.commits = new Counter({
      name: 'tributary_commits_total',
      help: 'Offset commits made.',
      labelNames: ['processor'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'tributary_dead_letters_total',
      help: 'Records sent to the dead-letter topic, by reason kind.',
      labelNames: ['processor', 'reason'],
      registers,
    });
    this.pauses = new Counter({
      name: 'tributary_backpressure_pauses_total',
      help: 'Times a partition fetch was paused because its buffer passed the high-water mark.',
      labelNames: ['processor', 'topic', 'partition'],
      registers,
    });
    this.buffered = new Gauge({
      name: 'tributary_buffered_records',
      help: 'Records taken in but not yet complete, per partition.',
      labelNames: ['processor', 'topic', 'partition'],
      registers,
    });
    this.lateRecords = new Counter({
      name: 'tributary_late_records_total',
      help: 'Records that arrived after the window they belong to had fired (sent to the late output).',
      labelNames: ['processor', 'operator'],
      registers,
    });
    this.supervisorEvents = new Counter({
      name: 'tributary_supervisor_events_total',
      help: 'Supervision events (child started, failed, restarting, stopped, escalated, gave up), by supervisor path.',
      labelNames: ['event', 'supervisor'],
      registers,
    });
    this.sinkDropped = new Counter({
      name: 'tributary_sink_dropped_total',
      help: 'Items an at-most-once sink dropped (e.g. live results to NATS beyond its buffer while disconnected), by reason.',
      labelNames: ['processor', 'sink', 'reason'],
      registers,
    });
    this.actors = new Gauge({
      name: 'tributary_partition_actors',
      help: 'Partition actors by lifecycle state.',
      labelNames: ['processor', 'state'],
      registers,
    });
    this.restoreRecords = new Counter({
      name: 'tributary_state_restore_records_total',
      help: 'Changelog records read by restores, per store.',
      labelNames: ['processor', 'store'],
      registers,
    });
    this.restoreSeconds = new Histogram({
      name: 'tributary_state_restore_seconds',
      help: "How long a partition's restore took (all its stores).",
      labelNames: ['processor'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.changelogRecords = new Counter({
      name: 'tributary_state_changelog_records_total',
      help: 'Records written to changelogs at checkpoints, per store.',
      labelNames: ['processor', 'store'],
      registers,
    });
    this.storeKeys = new Gauge({
      name: 'tributary_state_store_keys',
      help: "Keys (window stores: window and key pairs) in a partition's store, at the last commit.",
      labelNames: ['processor', 'topic', 'partition', 'store'],
      registers,
    });
  }
}
