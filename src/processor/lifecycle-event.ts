import type { RestoreSummary } from '../state/partition-state.js';

/**
 * Something that happened to a processor or one of its partition actors. The app's
 * `lifecycle` observable carries them; each is also a log line and a metric.
 *
 * @example
 * app.lifecycle.subscribe((e) => { if (e.type === 'partition.failed') console.error(e.topic, e.partition, e.error); });
 */
export type LifecycleEvent =
  | { readonly type: 'processor.started'; readonly processor: string; readonly at: number }
  | { readonly type: 'processor.stopped'; readonly processor: string; readonly at: number }
  | PartitionLifecycleEvent;

/** A lifecycle event of one partition actor. */
export type PartitionLifecycleEvent = {
  readonly processor: string;
  readonly topic: string;
  readonly partition: number;
  readonly at: number;
} & (
  | { readonly type: 'partition.started'; readonly offset: number }
  | { readonly type: 'partition.stopped'; readonly committed: number }
  | { readonly type: 'partition.paused' }
  | { readonly type: 'partition.resumed' }
  | { readonly type: 'partition.failed'; readonly error: Error; readonly offset: number | undefined }
  | { readonly type: 'partition.restarting'; readonly delayMs: number; readonly attempt: number }
  | ({ readonly type: 'partition.restored' } & RestoreSummary)
);

/** A partition lifecycle event as its source gives it: the runtime adds the processor, partition and time. */
export type PartitionEventBody = DistributiveOmit<PartitionLifecycleEvent, 'processor' | 'topic' | 'partition' | 'at'>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
