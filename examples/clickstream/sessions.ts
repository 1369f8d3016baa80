import { map, type OperatorFunction } from 'rxjs';
import { aggregating, session, type LateSink, type PipelineContext, type StreamRecord } from 'tributary';
import { SESSION_GAP_MS, type Click } from './click.js';

/** The `sessions` output. */
export interface Session {
  readonly userId: string;
  /** First and last click timestamps, both inclusive. */
  readonly sessionStart: number;
  readonly sessionEnd: number;
  readonly events: number;
  /** Distinct pages. */
  readonly pages: number;
  /** `events === 1`. */
  readonly bounce: boolean;
}

interface SessionAcc {
  events: number;
  pages: Set<string>;
}

/**
 * Session windows per user with a 30-minute gap: a user's clicks, in timestamp order, stay in
 * one session while each is at most 1,800,000 ms after the one before. Order-insensitive
 * (a count and a set), so out-of-order clicks give the same sessions.
 *
 * `late` gets the clicks that bridge a session that has already fired.
 *
 * @example
 * clicks.pipe(sessions(ctx, ctx.late));
 */
export function sessions(
  ctx: PipelineContext,
  late: LateSink<StreamRecord<string | null, Click>>,
): OperatorFunction<StreamRecord<string | null, Click>, Session> {
  return (clicks) =>
    clicks.pipe(
      session<StreamRecord<string | null, Click>, SessionAcc, string>({
        gap: SESSION_GAP_MS,
        key: (r) => r.value.userId,
        aggregate: aggregating<StreamRecord<string | null, Click>, SessionAcc>({
          init: () => ({ events: 0, pages: new Set() }),
          add: (acc, r) => {
            acc.events++;
            acc.pages.add(r.value.page);
            return acc;
          },
          merge: (a, b) => {
            for (const page of b.pages) a.pages.add(page);
            a.events += b.events;
            return a;
          },
        }),
        late,
      }),
      map(
        (s): Session => ({
          userId: s.key,
          sessionStart: s.windowStart,
          sessionEnd: s.windowEnd,
          events: s.value.events,
          pages: s.value.pages.size,
          bounce: s.value.events === 1,
        }),
      ),
    );
}
