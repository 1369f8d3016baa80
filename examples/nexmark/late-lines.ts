import type { LateInfo, StreamRecord } from 'tributary';
import { LINE_HEADER } from '../shared/input-lines.js';
import { LATE_FOR_HEADER } from '../shared/result-sinks.js';
import type { LinedEvent } from './events.js';

/** The outputs lateness is decided for: those with windows (seller-totals follows winning-bids). */
export type WindowedOutput = 'q5' | 'q7' | 'q8' | 'winning-bids';

/** What the command line's late sink takes: a record as read, with its input line and the output it missed in the headers. */
export interface LateLine {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: unknown;
  readonly headers: Readonly<Record<string, unknown>>;
}

/**
 * An input record late for `output`, on the stage that read it from its input topic: the record
 * as read (its headers carry the line), marked with the output.
 *
 * @example
 * hopping({ ..., late: (r, info) => ctx.late(lateInput(r, 'q5'), info) });
 */
export function lateInput(record: StreamRecord<unknown, unknown>, output: WindowedOutput): LateLine {
  return { topic: record.topic, partition: record.partition, offset: record.offset, value: record.value, headers: { ...record.headers, [LATE_FOR_HEADER]: output } };
}

/**
 * An input event late for `output` on a stage behind a repartition (the join stages): the event
 * with the input line it carries, and where the stage read it.
 *
 * @example
 * context.late(lateEvent(record, record.value, 'winning-bids'), info);
 */
export function lateEvent(where: Pick<StreamRecord, 'topic' | 'partition' | 'offset'>, lined: LinedEvent, output: WindowedOutput): LateLine {
  return {
    topic: where.topic,
    partition: where.partition,
    offset: where.offset,
    value: lined.event,
    headers: { [LINE_HEADER]: String(lined.line), [LATE_FOR_HEADER]: output },
  };
}

/** The {@link LateInfo} of an event found late by a join stage's own rule. */
export function lateInfo(operator: string, timestamp: number, watermark: number, offset: number): LateInfo {
  return { operator, timestamp, watermark, offset };
}

/** The input line number of a record (its `example.line` header), 0 when it has none (a test driver's record). */
export function lineOf(record: StreamRecord<unknown, unknown>): number {
  const header = record.headers[LINE_HEADER];
  const n = header === undefined ? 0 : Number(String(header));
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
