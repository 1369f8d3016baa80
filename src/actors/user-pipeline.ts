import { asyncScheduler, isObservable, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { TopicPartition } from '../connectors/log.js';
import { ConfigError } from '../errors.js';
import type { PipelineContext, ResolvedProcessor } from '../processor/define-processor.js';
import type { PartitionState } from '../state/partition-state.js';
import { advanceOnIdle } from '../streams/advance-on-idle.js';
import type { LateInfo } from '../streams/late-output.js';
import type { OffsetHolds } from '../streams/offset-holds.js';
import { withPipelineScope, type CurrentRecord, type PipelineScope } from '../streams/pipeline-scope.js';
import type { StreamRecord } from '../streams/stream-record.js';
import type { WatermarkClock } from '../streams/watermark-clock.js';

/** One partition's side of the user's pipeline: what it reads, and where what it does goes. */
export interface UserPipelineOptions {
  readonly processor: ResolvedProcessor;
  readonly topicPartition: TopicPartition;
  readonly logger: Logger;
  /** Processing time (the idle watermark, `context.scheduler`). Default RxJS' `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** The partition's event-time clock. */
  readonly clock: WatermarkClock;
  /** The partition's stores: the pipeline's operators declare theirs there as it is built. */
  readonly state: PartitionState;
  /** The partition's decoded records, the pipeline's source. */
  readonly records: Observable<StreamRecord>;
  /** A result of the pipeline, for the sink `sink`. */
  readonly emit: (sink: string, item: unknown) => void;
  readonly late: (element: unknown, info: LateInfo) => void;
  /** Holds the commit at `offset` until the returned release is called. */
  readonly hold: (offset: number) => () => void;
  /** An output or the idle watermark failed. */
  readonly fail: (err: unknown) => void;
  /** Downstream of a repartition, while a record is in the pipeline: its upstream partition's watermark. */
  readonly lateBound: () => number | undefined;
  /** While a record is in the pipeline: its event time and offset. */
  readonly currentRecord: () => CurrentRecord | undefined;
  /** Calls `listener` before each checkpoint (`emit: 'on-commit'` operators); returns its removal. */
  readonly onCheckpoint: (listener: () => void) => () => void;
  /** `ctx.queryable(name, lookup)`: live state answering interactive queries. */
  readonly queryable: (name: string, lookup: (key: string) => unknown) => void;
}

/**
 * Builds and subscribes the user's pipeline for one partition. It is built inside the
 * partition's {@link PipelineScope} (how its operators find the clock, holds, late output,
 * stores, checkpoints and default store names, as Angular's `inject()` works) and called with the
 * {@link PipelineContext}; each of its outputs goes to the sink of the same name (`default` for a
 * single stream), and the idle watermark runs beside it when `idleTimeoutMs` is set; each
 * subscription is added to `subscriptions` as it is made. Throws a {@link ConfigError} when its
 * outputs do not match the sinks.
 */
export function subscribeUserPipeline(options: UserPipelineOptions, subscriptions: Subscription[]): void {
  const storeNames = new Map<string, number>();
  const holds: OffsetHolds = { hold: (offset) => options.hold(offset) };
  const scope: PipelineScope = {
    clock: options.clock,
    holds,
    late: (element, info) => options.late(element, info),
    stores: options.state,
    onCheckpoint: (listener) => options.onCheckpoint(listener),
    lateBound: () => options.lateBound(),
    currentRecord: () => options.currentRecord(),
    storeName: (operator) => {
      const n = (storeNames.get(operator) ?? 0) + 1;
      storeNames.set(operator, n);
      return `${operator}-${n}`;
    },
  };
  withPipelineScope(scope, () => build(options, holds, subscriptions));
}

function build(options: UserPipelineOptions, holds: OffsetHolds, subscriptions: Subscription[]): void {
  const { processor, topicPartition, logger } = options;
  const context: PipelineContext = {
    processorId: processor.id,
    topic: topicPartition.topic,
    partition: topicPartition.partition,
    holds,
    clock: options.clock,
    late: (element: unknown, info: LateInfo) => options.late(element, info),
    queryable: (name, lookup) => options.queryable(name, lookup),
    scheduler: options.scheduler ?? asyncScheduler,
    logger,
  };
  const outputs = processor.pipeline(options.records, context);
  const streams: Array<[string, Observable<unknown>]> = isObservable(outputs)
    ? [['default', outputs]]
    : Object.entries(outputs as Record<string, Observable<unknown>>);
  for (const [name, stream] of streams) {
    if (!processor.sinks[name]) {
      throw new ConfigError(`${processor.id}.sinks`, `the pipeline returns a stream '${name}' but no sink has that name`);
    }
    if (!isObservable(stream)) throw new ConfigError(`${processor.id}.pipeline`, `output '${name}' is not an Observable`);
  }
  for (const [name, stream] of streams) {
    subscriptions.push(
      stream.subscribe({
        next: (item) => options.emit(name, item),
        error: (err: unknown) => options.fail(err),
      }),
    );
  }
  if (processor.idleTimeoutMs !== undefined) {
    subscriptions.push(
      advanceOnIdle({ clock: options.clock, idleTimeout: processor.idleTimeoutMs, scheduler: options.scheduler }).subscribe({ error: (err: unknown) => options.fail(err) }),
    );
  }
}
