import { TributaryError } from '../errors.js';

/**
 * A record reached an event-time operator after a window it belongs to had fired, and the
 * operator was given no `late` side output. Late records are never dropped silently: pass
 * `late` (a function, an Observer or a {@link LateOutput}) to route and count them instead.
 *
 * @example
 * source.pipe(tumbling({ size: 60_000, aggregate: counting() })).subscribe({
 *   error: (err) => { if (err instanceof LateRecordError) console.error(err.operator, err.timestamp); },
 * });
 */
export class LateRecordError extends TributaryError {
  constructor(
    readonly operator: string,
    readonly timestamp: number,
    readonly watermark: number,
    readonly offset: number | undefined,
  ) {
    super(
      `${operator}: record at event time ${timestamp}${offset === undefined ? '' : ` (offset ${offset})`} is late ` +
        `(watermark ${watermark}) and the operator has no 'late' side output; pass 'late' to route and count late records`,
    );
  }
}

/**
 * An element's event time is not a finite number. Raised by event-time operators whose
 * `timestamp` extractor (default: the element's `timestamp` field) returned something else.
 *
 * @example
 * of({ key: 'a' }).pipe(tumbling({ size: 1_000, aggregate: counting() }))
 *   .subscribe({ error: (err) => err instanceof EventTimeError }); // true: no `timestamp` field
 */
export class EventTimeError extends TributaryError {
  constructor(
    readonly operator: string,
    readonly value: unknown,
  ) {
    super(
      `${operator}: event time must be a finite number of epoch milliseconds, got ${String(value)}; ` +
        `pass a 'timestamp' extractor when elements have no numeric 'timestamp' field`,
    );
  }
}

/**
 * A join's record has a null or undefined join key where the join cannot keep it (an inner
 * join, or the other side of a left join), and the operator was given no `late` side output
 * (inside a processor it has one: the partition's, which routes and counts the record).
 *
 * @example
 * left.pipe(windowedJoin(right, { timeDifference: 1_000, join: (l, r) => [l, r] })).subscribe({
 *   error: (err) => { if (err instanceof NullJoinKeyError) console.error(err.operator, err.offset); },
 * });
 */
export class NullJoinKeyError extends TributaryError {
  constructor(
    readonly operator: string,
    readonly offset: number | undefined,
  ) {
    super(
      `${operator}: a record${offset === undefined ? '' : ` (offset ${offset})`} has a null or undefined join key ` +
        `and the operator has no 'late' side output; pass 'late' to route and count such records`,
    );
  }
}
