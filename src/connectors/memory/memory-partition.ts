import type { LogRecord, PartitionBatch } from '../log.js';
import { EMPTY_SEGMENT, encodeSegments, type RecordSegment } from './record-segment.js';

/**
 * One partition of a MemoryLog topic: records in offset order, offsets from 0.
 *
 * As on Kafka, records may be removed from the head ({@link MemoryPartition.trimBefore}: what
 * every consumer group has committed, or what is past the topic's retention; see
 * `MemoryRetention`): readers go by each record's `offset` and the log start, never by position
 * in the array.
 *
 * Records are kept serialized, in {@link RecordSegment}s (one or more per append, as Kafka keeps
 * record batches in its segment files), and materialised as `LogRecord`s when read: a batch's
 * records are new objects each time (its own: `exclusive`), their Buffers views of the segment.
 *
 * Readers that have caught up subscribe with {@link MemoryPartition.onAppend} instead of
 * polling: listeners are told once per microtask however many appends happened in it, so a
 * producer sending 200k records one by one wakes each fetcher a handful of times, not 200k.
 */
export class MemoryPartition {
  // segments[headSegment..] hold the partition's records, in offset order. Each record has an
  // ordinal (its position over the partition's life, from 0): ordinals[s] is that of the first
  // record of segments[s]; records from `headOrdinal` on are held, those before were trimmed.
  // A segment trimmed entirely leaves EMPTY_SEGMENT in its slot (its bytes are freed at once);
  // the slots are dropped from the arrays in bulk.
  private segments: RecordSegment[] = [];
  private ordinals: number[] = [];
  private headSegment = 0;
  private headOrdinal = 0;
  private nextOrdinal = 0;
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
    return this.nextOrdinal - this.headOrdinal;
  }

  /** Appends records already stamped with this partition's next offsets (serialized into segments). */
  append(records: readonly LogRecord[]): void {
    this.appendSegments(encodeSegments(records));
  }

  /** Appends segments of records already stamped with this partition's next offsets. */
  appendSegments(segments: readonly RecordSegment[]): void {
    let last: RecordSegment | undefined;
    for (const segment of segments) {
      if (segment.count === 0) continue;
      this.segments.push(segment);
      this.ordinals.push(this.nextOrdinal);
      this.nextOrdinal += segment.count;
      last = segment;
    }
    if (last === undefined) return;
    this.end = last.lastOffset + 1;
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
    const records = max > 0 ? this.materialise(this.ordinalOf(offset), this.nextOrdinal, max, until) : [];
    // No record in [offset, until) when none came back (max is at least 1): the next batch starts at `until`.
    const next = records.length > 0 ? records[records.length - 1].offset + 1 : max > 0 ? Math.max(offset, Math.min(until, this.end)) : offset;
    return { topic: this.topic, partition: this.partition, records, highWatermark: this.end, next, exclusive: true };
  }

  /** A copy of every record held, in offset order (read-committed: below the last stable offset, none of an aborted transaction). */
  all(): LogRecord[] {
    const held = this.materialise(this.headOrdinal, this.ordinalOf(this.lastStableOffset));
    return this.aborted.size === 0 ? held : held.filter((r) => !this.aborted.has(r.offset));
  }

  /** Removes every record below `offset` (Kafka's `deleteRecords`); the log start moves there. */
  trimBefore(offset: number): void {
    const target = Math.min(offset, this.end);
    if (target <= this.start) return;
    this.headOrdinal = this.ordinalOf(target);
    this.start = target;
    const { segments, ordinals } = this;
    while (this.headSegment < segments.length && ordinals[this.headSegment] + segments[this.headSegment].count <= this.headOrdinal) {
      segments[this.headSegment++] = EMPTY_SEGMENT;
    }
    // Drop the emptied slots once they are most of the array: amortized O(1) a segment.
    if (this.headSegment > 64 && this.headSegment * 2 > segments.length) {
      this.segments = segments.slice(this.headSegment);
      this.ordinals = ordinals.slice(this.headSegment);
      this.headSegment = 0;
    }
  }

  /** Removes the records older than `timestampMs` from the head (retention by time). */
  trimOlderThan(timestampMs: number): void {
    const { segments } = this;
    if (this.size === 0) return;
    let s = this.segmentAt(this.headOrdinal);
    let i = this.headOrdinal - this.ordinals[s];
    while (s < segments.length && segments[s].timestampAt(i) < timestampMs) {
      if (++i === segments[s].count) {
        s++;
        i = 0;
      }
    }
    this.trimBefore(s < segments.length ? segments[s].offsetAt(i) : this.end);
  }

  /** Removes records from the head while the partition holds more than `bytes` (retention by size). */
  trimToBytes(bytes: number): void {
    const { segments } = this;
    let held = 0;
    for (let s = segments.length - 1; s >= this.headSegment; s--) {
      const segment = segments[s];
      const first = s === this.headSegment ? this.headOrdinal - this.ordinals[s] : 0;
      if (first === 0 && held + segment.bytes <= bytes) {
        held += segment.bytes;
        continue;
      }
      for (let i = segment.count - 1; i >= first; i--) {
        const size = segment.recordBytes(i);
        if (held + size > bytes) {
          this.trimBefore(i + 1 < segment.count ? segment.offsetAt(i + 1) : s + 1 < segments.length ? segments[s + 1].firstOffset : this.end);
          return;
        }
        held += size;
      }
    }
  }

  /**
   * Replaces the records below `below` by what `select` keeps of them (log compaction; the log
   * start and end do not move). Returns how many are held below `below` now.
   */
  replaceBelow(below: number, select: (records: readonly LogRecord[]) => readonly LogRecord[]): number {
    const limit = this.ordinalOf(Math.min(below, this.lastStableOffset));
    // Aborted records go (Kafka's cleaner removes them too), and no rule ever sees them.
    const held = this.materialise(this.headOrdinal, limit);
    const kept = select(this.aborted.size === 0 ? held : held.filter((r) => !this.aborted.has(r.offset)));
    const rest: RecordSegment[] = encodeSegments(kept);
    if (limit < this.nextOrdinal) {
      const s = this.segmentAt(limit);
      const i = limit - this.ordinals[s];
      rest.push(i === 0 ? this.segments[s] : this.segments[s].slice(i, this.segments[s].count));
      for (let t = s + 1; t < this.segments.length; t++) rest.push(this.segments[t]);
    }
    this.segments = [];
    this.ordinals = [];
    this.headSegment = 0;
    this.headOrdinal = 0;
    this.nextOrdinal = 0;
    for (const segment of rest) {
      if (segment.count === 0) continue;
      this.segments.push(segment);
      this.ordinals.push(this.nextOrdinal);
      this.nextOrdinal += segment.count;
    }
    return kept.length;
  }

  /** Records held below `offset`. */
  countBelow(offset: number): number {
    return this.ordinalOf(offset) - this.headOrdinal;
  }

  /** Calls `listener` (asynchronously) after records are appended. Returns the unsubscribe. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Ordinal of the first held record at or after `offset` (`nextOrdinal` when none is): binary searches, offsets only grow. */
  private ordinalOf(offset: number): number {
    const { segments } = this;
    let low = this.headSegment;
    let high = segments.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (segments[mid].lastOffset < offset) low = mid + 1;
      else high = mid;
    }
    if (low === segments.length) return this.nextOrdinal;
    return Math.max(this.headOrdinal, this.ordinals[low] + segments[low].indexOf(offset));
  }

  /** Index of the segment that holds the record of `ordinal` (held, below `nextOrdinal`). */
  private segmentAt(ordinal: number): number {
    const { ordinals } = this;
    let low = this.headSegment;
    let high = this.segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (ordinals[mid] <= ordinal) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** The records of ordinals [from, to), at most `max`, those below `until` only, materialised. */
  private materialise(from: number, to: number, max = Infinity, until = Infinity): LogRecord[] {
    const records: LogRecord[] = [];
    if (from >= to) return records;
    const { segments, topic, partition } = this;
    let s = this.segmentAt(from);
    let segment = segments[s];
    let i = from - this.ordinals[s];
    for (let n = Math.min(max, to - from); n > 0; n--) {
      if (i === segment.count) {
        segment = segments[++s];
        i = 0;
      }
      if (segment.offsetAt(i) >= until) break;
      records.push(segment.record(i++, topic, partition));
    }
    return records;
  }

  private notify(): void {
    this.notifyScheduled = false;
    for (const listener of [...this.listeners]) listener();
  }
}
