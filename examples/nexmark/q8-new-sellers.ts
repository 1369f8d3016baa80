import type { OperatorFunction } from 'rxjs';
import { keyedProcess, type PipelineContext, type StreamRecord } from 'tributary';
import type { Auction, LinedEvent, Person } from './events.js';
import { lateEvent, lateInfo } from './late-lines.js';
import { WINDOW_MS, windowStartOf } from './nexmark-time.js';

/** A `q8` row: a person who opened an auction in the tumbling window they registered in. */
export interface Q8Row {
  readonly id: number;
  readonly name: string;
  readonly windowStart: number;
  readonly windowEnd: number;
}

/** What q8 keeps per person id, only while its windows are open. */
interface NewSellerState {
  /** The person, while their window is open. */
  person?: { readonly name: string; readonly windowStart: number; matched: boolean };
  /** Starts of the open windows with an auction of this seller, the person's own excepted. */
  auctionWindows?: number[];
}

/**
 * q8 (new users who sell), a windowed join of persons and auctions on `person.id =
 * auction.seller` in tumbling windows of 10,000 ms, on the stage keyed by person (`by-person`):
 * a person is reported, once, for the window holding their `dateTime` when an auction of theirs
 * has its `dateTime` in the same window. The row is emitted when the window fires (a timer at
 * its last millisecond: the stage's watermark, the minimum over every input partition, reaches
 * its end).
 *
 * A person or an auction whose window has already fired is late for q8 (judged against the
 * watermark of the input partition it was read from, as the window operators do behind a
 * repartition): it goes to the late output and takes no part. So state lives only while a
 * window is open (store `q8`), and is dropped when it fires: what arrives for it later is late.
 *
 * Written with `keyedProcess` so that it can later become a windowed join operator.
 *
 * @example
 * 'q8': byPerson.pipe(q8NewSellers(ctx)),
 */
export function q8NewSellers(context: PipelineContext): OperatorFunction<StreamRecord<string, LinedEvent<Person | Auction>>, Q8Row> {
  return keyedProcess<StreamRecord<string, LinedEvent<Person | Auction>>, NewSellerState, Q8Row, number>({
    store: 'q8',
    key: (r) => (r.value.event.type === 'person' ? r.value.event.id : r.value.event.seller),
    init: () => ({}),
    onRecord: (ctx, r) => {
      const event = r.value.event;
      const windowStart = windowStartOf(event.dateTime);
      const watermark = ctx.lateWatermark;
      if (windowStart + WINDOW_MS <= watermark) {
        context.late(lateEvent(r, r.value, 'q8'), lateInfo('q8', event.dateTime, watermark, r.offset));
        if (!ctx.state.person && !ctx.state.auctionWindows) ctx.clearState();
        return;
      }
      const state = ctx.state;
      if (event.type === 'person') {
        const auctionWindows = state.auctionWindows?.filter((s) => s !== windowStart);
        state.person = { name: event.name, windowStart, matched: auctionWindows?.length !== state.auctionWindows?.length };
        state.auctionWindows = auctionWindows?.length ? auctionWindows : undefined;
      } else if (state.person?.windowStart === windowStart) {
        state.person.matched = true;
      } else if (!state.auctionWindows?.includes(windowStart)) {
        (state.auctionWindows ??= []).push(windowStart);
      }
      ctx.registerTimer(windowStart + WINDOW_MS - 1);
    },
    onTimer: (ctx, time) => {
      const windowStart = time + 1 - WINDOW_MS;
      const state = ctx.state;
      if (state.person?.windowStart === windowStart) {
        if (state.person.matched) ctx.emit({ id: ctx.key, name: state.person.name, windowStart, windowEnd: windowStart + WINDOW_MS });
        state.person = undefined;
      }
      state.auctionWindows = state.auctionWindows?.filter((s) => s !== windowStart);
      if (!state.auctionWindows?.length) state.auctionWindows = undefined;
      if (!state.person && !state.auctionWindows) ctx.clearState();
    },
  });
}
