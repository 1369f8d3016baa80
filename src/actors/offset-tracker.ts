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
 * Completion may come out of order. Every operation is O(1) amortised.
 *
 * @example
 * const tracker = new OffsetTracker(100); // committed position: next offset to read is 100
 * tracker.take(100); tracker.take(101);
 * const release = tracker.hold(100);
 * tracker.complete(100); tracker.complete(101);
 * tracker.commitPoint(); // 100: the hold keeps offset 100 uncommitted
 * release();
 * tracker.commitPoint(); // 102
 */
export class OffsetTracker<S = number> implements OffsetHolds {
  // Offsets taken and not yet known complete, in offset order, from `head`.
  private readonly inFlight: number[] = [];
  private head = 0;
  private readonly completed = new Set<number>();
  // Held offsets in ascending order from `holdHead`; released ones are counted in `released`.
  private readonly holds: number[] = [];
  private holdHead = 0;
  private readonly released = new Map<number, number>();
  // Releases recorded in `released` and not yet dropped from `holds`.
  private releasedCount = 0;
  // Releases that wait until every record up to `after` is complete.
  private readonly deferred: Array<{ after: number; release: () => void }> = [];
  private deferredHead = 0;
  // The partition's event-time state (a watermark) before a record, where it changed: [offset, state].
  private readonly steps: Array<[number, S]> = [];
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
    return this.inFlight.length - this.head;
  }

  /** Number of holds not yet released. */
  get held(): number {
    return this.holds.length - this.holdHead - this.releasedCount;
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
    this.inFlight.push(offset);
    this.next = offset + 1;
    if (stateBefore === undefined) return;
    const last = this.steps[this.steps.length - 1];
    if (last === undefined || last[1] !== stateBefore) this.steps.push([offset, stateBefore]);
  }

  /** The state recorded just before the record at `offset` (for a commit point); undefined when none was. */
  stateBefore(offset: number): S | undefined {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      if (this.steps[i][0] <= offset) return this.steps[i][1];
    }
    return undefined;
  }

  /** Forgets recorded states before `offset`, keeping the one in force at it. */
  forgetStatesBefore(offset: number): void {
    let keepFrom = 0;
    while (keepFrom + 1 < this.steps.length && this.steps[keepFrom + 1][0] <= offset) keepFrom++;
    if (keepFrom > 0) this.steps.splice(0, keepFrom);
  }

  /** The first offset taken and not complete, or the next offset to take. */
  firstIncomplete(): number {
    return this.head < this.inFlight.length ? this.inFlight[this.head] : this.next;
  }

  /** Everything the record at `offset` caused is acknowledged. */
  complete(offset: number): void {
    if (this.head < this.inFlight.length && this.inFlight[this.head] === offset) {
      this.head++;
      this.drainCompleted();
      this.applyDeferred();
    } else {
      this.completed.add(offset);
    }
    this.compact();
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

  private drainCompleted(): void {
    while (this.head < this.inFlight.length && this.completed.delete(this.inFlight[this.head])) {
      this.head++;
    }
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
    if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head);
      this.head = 0;
    }
  }
}
