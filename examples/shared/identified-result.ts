/** Header of an output record that says which result it is (see {@link IdentifiedResult}). */
export const RESULT_ID_HEADER = 'example.result';

/**
 * An output row with an identity of its own, for outputs where two different results can have
 * the same content (nexmark's `q2`: two bids on one auction at one price give the same
 * `{"auction", "price"}`). The output files tell re-emissions from distinct results by this id
 * rather than by content: two rows with the same id are one result read twice (written once,
 * counted as a duplicate); two rows with different ids are two lines, even when identical.
 *
 * The id must be the same when a replay emits the result again: derive it from the input (the
 * line number of the bid it comes from), never from a counter or the clock.
 *
 * @example
 * emit(new IdentifiedResult(`line:${bid.line}`, { auction: bid.auction, price: bid.price }));
 */
export class IdentifiedResult<T = unknown> {
  constructor(
    /** Stable across replays. */
    readonly id: string,
    /** What the output file holds (as JSON). */
    readonly value: T,
  ) {}
}
