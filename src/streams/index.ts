// tributary's streams: event time, windows, aggregations, keyed state. Re-exports only.
export type { StreamRecord } from './stream-record.js';
export { noOffsetHolds, type OffsetHolds } from './offset-holds.js';
export { LateRecordError, EventTimeError, NullJoinKeyError } from './errors.js';

export { WatermarkClock, type WatermarkClockOptions } from './watermark-clock.js';
export { advanceOnIdle, type AdvanceOnIdleOptions, type IdleInfo } from './advance-on-idle.js';
export { MinWatermark, type MinWatermarkOptions } from './min-watermark.js';
export type { EventTimeOptions, KeyOptions, HoldOptions, KeyOf } from './event-time-options.js';
export { LateOutput, type LateInfo, type LateRecord, type LateSink, type LateOptions } from './late-output.js';

export { keyBy, type Rekeyed } from './key-by.js';
export { withTimestamp, type Restamped } from './with-timestamp.js';

export type { WindowResult, EmitMode } from './window-result.js';
export type { WindowOptions, EmitOptions } from './window-options.js';
export type { PartitioningOptions } from './operator-stores.js';
export { tumbling, type TumblingOptions } from './tumbling.js';
export { hopping, type HoppingOptions } from './hopping.js';
export { sliding, type SlidingOptions } from './sliding.js';
export { session, type SessionOptions } from './session.js';

export { aggregating, type Aggregator } from './aggregator.js';
export { counting } from './counting.js';
export { summing } from './summing.js';
export { minimum } from './minimum.js';
export { maximum } from './maximum.js';
export { reducing } from './reducing.js';
export { topN, type TopNOptions } from './top-n.js';

export { keyedProcess, type KeyedProcessOptions, type KeyedProcessContext } from './keyed-process.js';
export { orderedByEventTime, type OrderedByEventTimeOptions } from './ordered-by-event-time.js';

export { aggregateByKey, type AggregateByKeyOptions, type TableUpdate, type TableEmit } from './aggregate-by-key.js';
export { countByKey } from './count-by-key.js';
export { reduceByKey, type ReduceByKeyOptions } from './reduce-by-key.js';

export type { JoinKeyOptions, JoinResult } from './join-inputs.js';
export { windowedJoin, type WindowedJoinOptions, type WindowedJoinSettings, type WindowedJoiner, type WindowedJoinType } from './windowed-join.js';
export { regularJoin, type RegularJoinOptions } from './regular-join.js';
export { streamTableJoin, type StreamTableJoinOptions, type StreamTableJoinSettings, type StreamTableJoiner } from './stream-table-join.js';
export { tableTableJoin, type TableTableJoinOptions, type TableTableJoinSettings, type TableTableJoiner } from './table-table-join.js';
export { withPipelineScope, currentPipelineScope, type PipelineScope } from './pipeline-scope.js';
export { table, globalTable, type TableOptions, type TableSource, type TableUpdateRecord } from './table.js';
