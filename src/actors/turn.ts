import type { DeadLetter } from '../supervision/dead-letter.js';

/**
 * What one synchronous stretch of a partition pipeline produced: the records it took, the
 * results it emitted per sink, the dead letters, and the offset holds its operators released.
 * The records complete, and the holds are released, only when every result is acknowledged.
 *
 * @example
 * const turn = new Turn();
 * turn.offsets.push(7);
 * turn.add('default', { page: '/home', views: 3 });
 */
export class Turn {
  offsets: number[] = [];
  readonly outputs = new Map<string, unknown[]>();
  readonly deadLetters: DeadLetter[] = [];
  readonly releases: Array<() => void> = [];

  add(sink: string, item: unknown): void {
    const items = this.outputs.get(sink);
    if (items) items.push(item);
    else this.outputs.set(sink, [item]);
  }
}
