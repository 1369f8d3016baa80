import type { OffsetHolds } from '../streams/offset-holds.js';

/**
 * Decides which offset of one partition is safe to commit.
 *
 * A record is *taken* when it enters the pipeline and *complete* when everything it caused has
 * been acknowledged by the sinks. The safe commit point is the offset after the highest
 * contiguous complete record, and never past the lowest offset an operator still *holds* (an
 * open window holds the earliest record that contributed to it). Committing it means a restart
 * replays exactly the records whose effects are not yet durable.
 *
 * Records are taken in offset order; offsets may have gaps (compaction, transaction markers).
 * Completion may come out of order. Records are tracked in *runs*: a record taken on its own is
 * a run of one, completed by {@link complete}; the records taken between {@link beginRun} and
 * {@link endRun} (a fetched batch) are one run, completed together by {@link completeRun}, so
 * the cost is per batch, not per record. Every operation is O(1) amortised (O(log runs) for
 * completions out of order).
 *
 * @example
 * const tracker = new OffsetTracker(100); // committed position: next offset to read is 100
 * tracker.take(100); tracker.take(101);
 * const release = tracker.hold(100);
 * tracker.complete(100); tracker.complete(101);
 * tracker.commitPoint(); // 100: the hold keeps offset 100 uncommitted
 * release();
 * tracker.commitPoint(); // 102
 * tracker.beginRun(); tracker.take(102); tracker.take(105); tracker.endRun(); // one batch
 * tracker.completeRun(102, 106, 2);
 * tracker.commitPoint(); // 106
 */
export class OffsetTracker<S = number> implements OffsetHolds {
  // Runs taken and not yet drained, in offset order from `head`: run i holds the runCount[i]
  // records taken with offsets in [runStart[i], runEnd[i]); runDone[i] once it completed out of order.
  private readonly runStart: number[] = [];
  private readonly runEnd: number[] = [];
  private readonly runCount: number[] = [];
  private readonly runDone: boolean[] = [];
  private head = 0;
  // Records in the runs from `head`: taken and not yet known complete up to a contiguous prefix.
  private inFlight = 0;
  // Between beginRun() and endRun(): whether a take extends the last run (false until its first take),
  // and the records taken into it not yet added to its runEnd/runCount.
  private inRun = false;
  private extendRun = false;
  private runExtension = 0;
  // Held offsets in ascending order from `holdHead`; released ones are counted in `released`.
  private readonly holds: number[] = [];
  private holdHead = 0;
  private readonly released = new Map<number, number>();
  // Releases recorded in `released` and not yet dropped from `holds`.
  private releasedCount = 0;
  // Releases that wait until every record up to `after` is complete.
  private readonly deferred: Array<{ after: number; release: () => void }> = [];
  private deferredHead = 0;
  // The partition's event-time state before a record, where it changed, as two parallel arrays
  // (a number state, the watermark, is then stored unboxed: nothing allocated per record).
  private readonly stepOffsets: number[] = [];
  private readonly stepStates: S[] = [];
  private lastState: S | undefined;
  private next: number;

  /** @param position the partition's committed offset: the next offset to read. */
  constructor(position: number) {
    this.next = position;
  }

  /** The offset after the last record taken: records below it are already in. */
  get nextOffset(): number {
    return this.next;
  }

  /** Records taken and not yet complete. */
  get pending(): number {
    return this.inFlight;
  }

  /** Number of holds not yet released. */
  get held(): number {
    return this.holds.length - this.holdHead - this.releasedCount;
  }

  /** The records taken from now until {@link endRun} form one run, completed by {@link completeRun}. */
  beginRun(): void {
    this.inRun = true;
    this.extendRun = false;
  }

  /** Ends the run {@link beginRun} started: later records are taken one run each again. */
  endRun(): void {
    this.closeExtension();
    this.inRun = false;
    this.extendRun = false;
  }

  /**
   * A record at `offset` entered the pipeline. Offsets must be taken in ascending order.
   * `stateBefore` is the partition's event-time state just before the record (an immutable
   * value, recorded where it changed): {@link stateBefore} gives it back for a commit point, so
   * a replay from there starts in the same state.
   */
  take(offset: number, stateBefore?: S): void {
    if (offset < this.next) {
      throw new RangeError(`offset ${offset} taken out of order: expected at least ${this.next}`);
    }
    this.next = offset + 1;
    this.inFlight++;
    if (this.extendRun) {
      // Counted here, written into the run's arrays once, when it ends or is read.
      this.runExtension++;
    } else {
      this.runStart.push(offset);
      this.runEnd.push(offset + 1);
      this.runCount.push(1);
      this.runDone.push(false);
      this.extendRun = this.inRun;
    }
    if (stateBefore === undefined || (stateBefore === this.lastState && this.stepStates.length > 0)) return;
    this.lastState = stateBefore;
    this.stepOffsets.push(offset);
    this.stepStates.push(stateBefore);
  }

  /** The state recorded just before the record at `offset` (for a commit point); undefined when none was. */
  stateBefore(offset: number): S | undefined {
    const i = lastAtOrBelow(this.stepOffsets, 0, offset);
    return i < 0 ? undefined : this.stepStates[i];
  }

  /** Forgets recorded states before `offset`, keeping the one in force at it. */
  forgetStatesBefore(offset: number): void {
    const keepFrom = lastAtOrBelow(this.stepOffsets, 0, offset);
    if (keepFrom > 0) {
      this.stepOffsets.splice(0, keepFrom);
      this.stepStates.splice(0, keepFrom);
    }
  }

  /** The first offset taken and not complete, or the next offset to take. */
  firstIncomplete(): number {
    return this.head < this.runStart.length ? this.runStart[this.head] : this.next;
  }

  /** Everything the record at `offset` caused is acknowledged. The record must have been taken on its own (outside a run). */
  complete(offset: number): void {
    this.closeExtension();
    const i = this.runAt(offset);
    if (i < 0 || this.runDone[i]) return;
    if (this.runCount[i] !== 1) {
      throw new RangeError(`offset ${offset} was taken in a run of ${this.runCount[i]} records: complete the run with completeRun()`);
    }
    this.done(i);
  }

  /**
   * Everything the `count` records taken in [`from`, `until`) caused is acknowledged: a run
   * {@link beginRun} started at `from`, or its first `count` records (the rest stays
   * incomplete, e.g. the record a failure stopped at).
   */
  completeRun(from: number, until: number, count: number): void {
    if (count === 0) return;
    this.closeExtension();
    const i = this.runAt(from);
    if (i < 0 || this.runStart[i] !== from || this.runDone[i]) {
      throw new RangeError(`no incomplete run starts at offset ${from}`);
    }
    const rest = this.runCount[i] - count;
    if (rest < 0 || until <= from || (rest === 0) !== (until >= this.runEnd[i])) {
      throw new RangeError(`run at offset ${from} has ${this.runCount[i]} records up to ${this.runEnd[i]}: cannot complete ${count} up to ${until}`);
    }
    if (rest > 0) {
      // Split: [from, until) completes, [until, end) stays in flight.
      this.runStart.splice(i + 1, 0, until);
      this.runEnd.splice(i + 1, 0, this.runEnd[i]);
      this.runCount.splice(i + 1, 0, rest);
      this.runDone.splice(i + 1, 0, false);
      this.runEnd[i] = until;
      this.runCount[i] = count;
    }
    this.done(i);
  }

  /** Writes the records taken into the open run so far into its end and count. */
  private closeExtension(): void {
    if (this.runExtension === 0) return;
    const last = this.runEnd.length - 1;
    this.runEnd[last] = this.next;
    this.runCount[last] += this.runExtension;
    this.runExtension = 0;
  }

  private done(i: number): void {
    if (i !== this.head) {
      this.runDone[i] = true;
      return;
    }
    this.drain();
    this.applyDeferred();
    this.compact();
  }

  /** The run whose offsets include `offset`, or -1. */
  private runAt(offset: number): number {
    const { runStart, head } = this;
    // Completions come mostly in order: try the head first.
    if (head < runStart.length && runStart[head] === offset) return head;
    const i = lastAtOrBelow(runStart, head, offset);
    return i >= 0 && offset < this.runEnd[i] ? i : -1;
  }

  hold(offset: number): () => void {
    const holds = this.holds;
    if (holds.length === this.holdHead || holds[holds.length - 1] <= offset) {
      holds.push(offset);
    } else {
      // Out of order (rare): keep the array sorted.
      let lo = this.holdHead;
      let hi = holds.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (holds[mid] <= offset) lo = mid + 1;
        else hi = mid;
      }
      holds.splice(lo, 0, offset);
    }
    let done = false;
    const release = (): void => {
      this.released.set(offset, (this.released.get(offset) ?? 0) + 1);
      this.releasedCount++;
      this.dropReleasedHolds();
    };
    // A hold released while records are still incomplete lasts until every record taken so far
    // is complete: the result the holder emitted on release may depend on any of them, and a
    // replay from before them must find the holder's whole input again.
    return () => {
      if (done) return;
      done = true;
      if (this.firstIncomplete() >= this.next) release();
      else this.deferred.push({ after: this.next - 1, release });
    };
  }

  private applyDeferred(): void {
    const first = this.firstIncomplete();
    while (this.deferredHead < this.deferred.length && this.deferred[this.deferredHead].after < first) {
      this.deferred[this.deferredHead++].release();
    }
    if (this.deferredHead > 1024 && this.deferredHead * 2 > this.deferred.length) {
      this.deferred.splice(0, this.deferredHead);
      this.deferredHead = 0;
    }
  }

  /** The lowest offset still held, or undefined. */
  lowestHold(): number | undefined {
    return this.holdHead < this.holds.length ? this.holds[this.holdHead] : undefined;
  }

  /** The offset that is safe to commit now: the next offset a restart must read. */
  commitPoint(): number {
    const firstIncomplete = this.firstIncomplete();
    const lowestHold = this.lowestHold();
    return lowestHold === undefined ? firstIncomplete : Math.min(firstIncomplete, lowestHold);
  }

  /** The head run is complete: drop it and every run after it already complete. */
  private drain(): void {
    const { runCount, runDone } = this;
    this.inFlight -= runCount[this.head++];
    while (this.head < runCount.length && runDone[this.head]) this.inFlight -= runCount[this.head++];
  }

  private dropReleasedHolds(): void {
    while (this.holdHead < this.holds.length) {
      const offset = this.holds[this.holdHead];
      const n = this.released.get(offset);
      if (n === undefined) break;
      if (n === 1) this.released.delete(offset);
      else this.released.set(offset, n - 1);
      this.holdHead++;
      this.releasedCount--;
    }
    if (this.holdHead > 1024 && this.holdHead * 2 > this.holds.length) {
      this.holds.splice(0, this.holdHead);
      this.holdHead = 0;
    }
    // One long-lived hold at the head would keep every later entry, released or not: when the
    // released ones outnumber the live ones, drop them (amortised O(1) per release).
    if (this.releasedCount > 1024 && this.releasedCount * 2 > this.holds.length - this.holdHead) this.compactHolds();
  }

  private compactHolds(): void {
    const live: number[] = [];
    for (let i = this.holdHead; i < this.holds.length; i++) {
      const offset = this.holds[i];
      const n = this.released.get(offset);
      if (n === undefined) live.push(offset);
      else if (n === 1) this.released.delete(offset);
      else this.released.set(offset, n - 1);
    }
    this.holds.length = 0;
    this.holds.push(...live);
    this.holdHead = 0;
    this.releasedCount = 0;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.runStart.length) {
      this.runStart.splice(0, this.head);
      this.runEnd.splice(0, this.head);
      this.runCount.splice(0, this.head);
      this.runDone.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** The last index i ≥ `from` with `sorted[i] <= value`, or -1 (binary search over an ascending array). */
function lastAtOrBelow(sorted: readonly number[], from: number, value: number): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1 >= from ? lo - 1 : -1;
}
