import type { PartitionBatch } from '../log.js';
import type { MemoryPartition } from './memory-partition.js';

/** How a {@link PartitionFetcher} delivers and where it reports. */
export interface PartitionFetcherOptions {
  readonly startOffset: number;
  readonly maxBatchRecords: number;
  readonly paused: boolean;
  /** Awaited before the next batch of this partition is delivered. */
  readonly deliver: (batch: PartitionBatch) => Promise<void>;
  /** Called once when `deliver` throws or rejects; the fetcher has stopped by then. */
  readonly fail: (error: unknown) => void;
}

/**
 * The delivery loop of one assigned partition: batches of up to `maxBatchRecords` in offset
 * order, each awaited before the next. Partitions have one fetcher each and never wait on one
 * another.
 *
 * Caught up, it waits for the partition's append notification (no polling). `onBatch` is always
 * called on a fresh microtask, never from inside `send`, `resume` or `start`, so a handler is
 * never re-entered from its own calls.
 */
export class PartitionFetcher {
  private position: number;
  private paused: boolean;
  private stopped = false;
  private busy = false;
  private loopDone: Promise<void> = Promise.resolve();
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly partition: MemoryPartition,
    private readonly options: PartitionFetcherOptions,
  ) {
    this.position = options.startOffset;
    this.paused = options.paused;
  }

  start(): void {
    this.unsubscribe = this.partition.onAppend(() => this.pump());
    this.pump();
  }

  /** No batch after the one in flight, until {@link PartitionFetcher.resume}. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Delivers from `offset` next; the batch in flight, if any, stays delivered. */
  seek(offset: number): void {
    this.position = offset;
    this.pump();
  }

  /** Stops for good; resolves once the batch in flight (if any) has been taken in. */
  stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    return this.loopDone;
  }

  private canFetch(): boolean {
    return !this.stopped && !this.paused && this.position < this.partition.lastStableOffset;
  }

  private pump(): void {
    if (this.busy || !this.canFetch()) return;
    this.busy = true;
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      await Promise.resolve();
      while (this.canFetch()) {
        const batch = this.partition.committedBatch(this.position, this.options.maxBatchRecords);
        this.position = batch.next;
        if (batch.records.length === 0) continue;
        await this.options.deliver(batch);
      }
    } catch (error) {
      this.stopped = true;
      this.unsubscribe();
      this.options.fail(error);
    } finally {
      this.busy = false;
    }
  }
}
