import type { LogRecord, PartitionBatch } from '../log.js';

/**
 * One partition of a MemoryLog topic: records in offset order, offsets from 0.
 *
 * As on Kafka, records may be removed from the head ({@link MemoryPartition.trimBefore}: what
 * every consumer group has committed, or what is past the topic's retention; see
 * `MemoryRetention`): readers go by each record's `offset` and the log start, never by position
 * in the array.
 *
 * Readers that have caught up subscribe with {@link MemoryPartition.onAppend} instead of
 * polling: listeners are told once per microtask however many appends happened in it, so a
 * producer sending 200k records one by one wakes each fetcher a handful of times, not 200k.
 */
export class MemoryPartition {
  // records[head..] are the partition's records, in offset order; records before `head` were
  // trimmed and are dropped from the array in bulk (so that trimming costs O(1) a record).
  private records: LogRecord[] = [];
  private head = 0;
  private end = 0;
  private start = 0;
  private readonly listeners = new Set<() => void>();
  private notifyScheduled = false;
  // Transactions: the first offset each open one wrote here (the last stable offset is the
  // lowest), and the offsets of the records of aborted ones (never read by read-committed readers).
  private readonly openTransactions = new Map<object, number>();
  private readonly aborted = new Set<number>();

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Offset of the next record to be appended (Kafka's high watermark; the log end offset). */
  get highWatermark(): number {
    return this.end;
  }

  /**
   * The offset below which no record belongs to an open transaction (Kafka's last stable
   * offset): read-committed readers read up to it, not beyond.
   */
  get lastStableOffset(): number {
    let lowest = this.end;
    for (const first of this.openTransactions.values()) if (first < lowest) lowest = first;
    return lowest;
  }

  /** A transaction (`txn`, any object naming it) is about to append its first record here. */
  beginTransaction(txn: object): void {
    if (!this.openTransactions.has(txn)) this.openTransactions.set(txn, this.end);
  }

  /**
   * Ends a transaction that wrote `offsets` here: aborted, its records are never read again
   * (read-committed); either way it takes one offset for its end, as Kafka's control record.
   */
  endTransaction(txn: object, offsets: readonly number[], committed: boolean): void {
    if (!this.openTransactions.delete(txn)) return;
    if (!committed) for (const offset of offsets) this.aborted.add(offset);
    this.end += 1;
    this.schedule();
  }

  /** Whether the record at `offset` belongs to an aborted transaction. */
  isAborted(offset: number): boolean {
    return this.aborted.size > 0 && this.aborted.has(offset);
  }

  /**
   * As {@link batch}, read-committed: below the last stable offset, aborted records left out
   * (`next` goes past them, as past Kafka's control records).
   */
  committedBatch(offset: number, max: number, until = this.end): PartitionBatch & { readonly next: number } {
    const stable = Math.min(until, this.lastStableOffset);
    const batch = this.batch(offset, max, stable);
    if (this.aborted.size === 0) return batch;
    const records = batch.records.filter((r) => !this.aborted.has(r.offset));
    return { ...batch, records };
  }

  /** The first offset still held (Kafka's log start offset). */
  get logStartOffset(): number {
    return this.start;
  }

  /** Records held now. */
  get size(): number {
    return this.records.length - this.head;
  }

  /** Appends records already stamped with this partition's next offsets. */
  append(records: readonly LogRecord[]): void {
    if (records.length === 0) return;
    for (const record of records) this.records.push(record);
    this.end = records[records.length - 1].offset + 1;
    this.schedule();
  }

  private schedule(): void {
    if (!this.notifyScheduled && this.listeners.size > 0) {
      this.notifyScheduled = true;
      queueMicrotask(() => this.notify());
    }
  }

  /**
   * Up to `max` records from `offset` on, below `until` (default: the end); `next` is where the
   * following batch starts (past any gap). O(log n + max), whatever the partition's length.
   */
  batch(offset: number, max: number, until = this.end): PartitionBatch & { readonly next: number } {
    const from = this.indexOf(offset);
    let to = Math.min(this.records.length, from + max);
    while (to > from && this.records[to - 1].offset >= until) to--;
    const records = this.records.slice(from, to);
    // No record in [offset, until) when none came back (max is at least 1): the next batch starts at `until`.
    const next = records.length > 0 ? records[records.length - 1].offset + 1 : max > 0 ? Math.max(offset, Math.min(until, this.end)) : offset;
    return { topic: this.topic, partition: this.partition, records, highWatermark: this.end, next };
  }

  /** A copy of every record held, in offset order (read-committed: below the last stable offset, none of an aborted transaction). */
  all(): LogRecord[] {
    const stable = this.lastStableOffset;
    const held = this.records.slice(this.head, this.indexOf(stable));
    return this.aborted.size === 0 ? held : held.filter((r) => !this.aborted.has(r.offset));
  }

  /** Removes every record below `offset` (Kafka's `deleteRecords`); the log start moves there. */
  trimBefore(offset: number): void {
    const target = Math.min(offset, this.end);
    if (target <= this.start) return;
    this.head = this.indexOf(target);
    this.start = target;
    // Drop the trimmed slots once they are most of the array: amortized O(1) a record.
    if (this.head > 1_024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  /** Removes the records older than `timestampMs` from the head (retention by time). */
  trimOlderThan(timestampMs: number): void {
    let i = this.head;
    while (i < this.records.length && this.records[i].timestamp < timestampMs) i++;
    if (i > this.head) this.trimBefore(i < this.records.length ? this.records[i].offset : this.end);
  }

  /** Removes records from the head while the partition holds more than `bytes` (retention by size). */
  trimToBytes(bytes: number): void {
    let held = 0;
    let i = this.records.length;
    while (i > this.head && held + recordBytes(this.records[i - 1]) <= bytes) held += recordBytes(this.records[--i]);
    if (i > this.head) this.trimBefore(i < this.records.length ? this.records[i].offset : this.end);
  }

  /**
   * Replaces the records below `below` by what `select` keeps of them (log compaction; the log
   * start and end do not move). Returns how many are held below `below` now.
   */
  replaceBelow(below: number, select: (records: readonly LogRecord[]) => readonly LogRecord[]): number {
    const limit = this.indexOf(Math.min(below, this.lastStableOffset));
    // Aborted records go (Kafka's cleaner removes them too), and no rule ever sees them.
    const held = this.records.slice(this.head, limit);
    const kept = select(this.aborted.size === 0 ? held : held.filter((r) => !this.aborted.has(r.offset)));
    this.records = [...kept, ...this.records.slice(limit)];
    this.head = 0;
    return kept.length;
  }

  /** Records held below `offset`. */
  countBelow(offset: number): number {
    return this.indexOf(offset) - this.head;
  }

  /** Calls `listener` (asynchronously) after records are appended. Returns the unsubscribe. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Index of the first record at or after `offset` (binary search: offsets only grow). */
  private indexOf(offset: number): number {
    let low = this.head;
    let high = this.records.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.records[mid].offset < offset) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private notify(): void {
    this.notifyScheduled = false;
    for (const listener of [...this.listeners]) listener();
  }
}

/** A record's size as retention counts it: key, value and headers. */
export function recordBytes(record: LogRecord): number {
  let bytes = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const name in record.headers) {
    const value = record.headers[name];
    bytes += name.length + (typeof value === 'string' ? value.length : (value?.length ?? 0));
  }
  return bytes;
}
