import type { DeadLetter } from '../supervision/dead-letter.js';

/**
 * What one synchronous stretch of a partition pipeline produced: the records it took, the
 * results it emitted per sink, the dead letters, and the offset holds its operators released.
 * The records complete, and the holds are released, only when every result is acknowledged.
 *
 * The records a turn took are one run of the partition's offset tracker (a fetched batch, in
 * offset order): the turn keeps their range and count, not each offset.
 *
 * @example
 * const turn = new Turn();
 * turn.take(7);
 * turn.add('default', { page: '/home', views: 3 });
 */
export class Turn {
  /** Offset of the first record taken; `Infinity` while none was. */
  first = Infinity;
  /** Offset of the last record taken; `-Infinity` while none was. */
  last = -Infinity;
  /** The records that complete with this turn are those taken in [`first`, `until`). */
  until = -Infinity;
  /** How many records complete with this turn. */
  records = 0;
  // Offset of the record taken before the last one (to restore `last` when that one is dropped).
  private beforeLast = -Infinity;
  readonly outputs = new Map<string, unknown[]>();
  readonly deadLetters: DeadLetter[] = [];
  readonly releases: Array<() => void> = [];
  // The last sink added to, and its items: consecutive results mostly go to the same sink.
  private lastSink: string | undefined;
  private lastItems: unknown[] | undefined;

  /** A record entered the pipeline in this turn (offsets ascending). */
  take(offset: number): void {
    if (this.records++ === 0) this.first = offset;
    this.beforeLast = this.last;
    this.last = offset;
    this.until = offset + 1;
  }

  /**
   * Drops the last record taken (the one the pipeline failed at: it must not complete). Returns
   * false when `offset` is not the last record taken.
   */
  dropLast(offset: number): boolean {
    if (this.records === 0 || offset !== this.last) return false;
    this.records--;
    this.until = offset;
    this.last = this.beforeLast;
    this.beforeLast = -Infinity;
    if (this.records === 0) this.first = Infinity;
    return true;
  }

  add(sink: string, item: unknown): void {
    if (sink === this.lastSink) {
      this.lastItems!.push(item);
      return;
    }
    let items = this.outputs.get(sink);
    if (items) items.push(item);
    else this.outputs.set(sink, (items = [item]));
    this.lastSink = sink;
    this.lastItems = items;
  }
}
