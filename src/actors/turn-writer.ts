import type { LogProducer, OutgoingRecord, TopicPartition } from '../connectors/log.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { ResolvedProcessor } from '../processor/define-processor.js';
import type { EncodedWrite, RejectedOutput, Sink } from '../sinks/sink.js';
import { toDeadLetterRecord } from '../supervision/dead-letter.js';
import type { FailedAttempt } from './failed-attempt.js';
import type { RecordDecoder } from './record-decoder.js';
import type { Turn } from './turn.js';

/**
 * Writes what a turn produced: each sink's results and the dead letters, named by `origin` (one
 * pipeline instance: after one of its writes failed, none of its later ones is applied).
 * Results a sink refuses for good become dead letters too, written before the turn completes.
 */
export class TurnWriter {
  constructor(
    private readonly options: {
      readonly processor: ResolvedProcessor;
      readonly topicPartition: TopicPartition;
      readonly deadLetters: Sink<OutgoingRecord>;
      readonly failedAttempts: Map<number, FailedAttempt>;
      readonly metrics: TributaryMetrics;
      readonly decoder: RecordDecoder;
      readonly origin: string;
      /**
       * With `guarantee: 'exactly-once'`: the partition's transaction. Every sink's records (and
       * the dead letters) go there, encoded by the sink ({@link Sink.encode}), all of a turn's
       * in the same synchronous call, so that a turn is never split between two transactions.
       */
      readonly transaction?: Pick<LogProducer, 'send'>;
    },
  ) {}

  // Writes issued and not yet settled, per sink: what a stalled partition waits on.
  private readonly unsettled = new Map<string, number>();

  /** The sinks (and `dead letters`) with writes not yet settled, in the order first written. */
  get waitingOn(): string[] {
    return [...this.unsettled].filter(([, n]) => n > 0).map(([name]) => name);
  }

  private track<T>(name: string, write: Promise<T>): Promise<T> {
    this.unsettled.set(name, (this.unsettled.get(name) ?? 0) + 1);
    const untrack = (): void => void this.unsettled.set(name, (this.unsettled.get(name) ?? 1) - 1);
    write.then(untrack, untrack);
    return write;
  }

  /** The writes of `turn`, one promise per sink written to (none for an empty turn). */
  write(turn: Turn): Promise<void>[] {
    if (this.options.transaction) return this.writeInTransaction(turn, this.options.transaction);
    const { processor, metrics, origin } = this.options;
    const writes: Promise<void>[] = [];
    for (const [name, items] of turn.outputs) {
      writes.push(
        this.track(name, processor.sinks[name].write(items, origin)).then((rejected) => {
          metrics.recordsOut.inc({ processor: processor.id, sink: name }, items.length - (rejected?.length ?? 0));
          if (rejected && rejected.length > 0) return this.deadLetterOutputs(name, turn, rejected);
        }),
      );
    }
    if (turn.deadLetters.length > 0) {
      const records = turn.deadLetters.map((letter) => toDeadLetterRecord(processor.id, letter));
      writes.push(
        this.track('dead letters', this.options.deadLetters.write(records, origin)).then(() => {
          for (const letter of turn.deadLetters) {
            metrics.deadLetters.inc({ processor: processor.id, reason: letter.kind });
            this.options.failedAttempts.delete(letter.record.offset);
          }
        }),
      );
    }
    return writes;
  }

  /** {@link write} in the partition's transaction: every record is sent now, before this returns. */
  private writeInTransaction(turn: Turn, transaction: Pick<LogProducer, 'send'>): Promise<void>[] {
    const { processor, metrics } = this.options;
    const writes: Promise<void>[] = [];
    const send = (name: string, encoded: EncodedWrite, then: () => void): void => {
      writes.push(this.track(name, transaction.send(encoded.topic, encoded.records)).then(then));
    };
    for (const [name, items] of turn.outputs) {
      const encoded = processor.sinks[name].encode!(items);
      const rejected = encoded.rejected ?? [];
      send(name, encoded, () => metrics.recordsOut.inc({ processor: processor.id, sink: name }, items.length - rejected.length));
      if (rejected.length > 0) {
        const letters = this.rejectedLetters(name, turn, rejected);
        send('dead letters', this.options.deadLetters.encode!(letters), () => metrics.deadLetters.inc({ processor: processor.id, reason: 'output-rejected' }, letters.length));
      }
    }
    if (turn.deadLetters.length > 0) {
      const records = turn.deadLetters.map((letter) => toDeadLetterRecord(processor.id, letter));
      send('dead letters', this.options.deadLetters.encode!(records), () => {
        for (const letter of turn.deadLetters) {
          metrics.deadLetters.inc({ processor: processor.id, reason: letter.kind });
          this.options.failedAttempts.delete(letter.record.offset);
        }
      });
    }
    return writes;
  }

  /**
   * Results a sink refused for good (e.g. larger than the topic takes): dead letters with reason
   * `output-rejected`, the result's key and value, and the input position of the turn that
   * produced them (its last offset; the reason names the whole range). Written before the turn
   * completes, so a crash before they are acknowledged replays the turn.
   */
  private deadLetterOutputs(sink: string, turn: Turn, rejected: readonly RejectedOutput[]): Promise<void> {
    const { processor, metrics } = this.options;
    const letters = this.rejectedLetters(sink, turn, rejected);
    return this.options.deadLetters.write(letters, this.options.origin).then(() => {
      metrics.deadLetters.inc({ processor: processor.id, reason: 'output-rejected' }, letters.length);
    });
  }

  /** The dead-letter records of results `sink` refused (see {@link deadLetterOutputs}). */
  private rejectedLetters(sink: string, turn: Turn, rejected: readonly RejectedOutput[]): OutgoingRecord[] {
    const { processor, topicPartition, decoder } = this.options;
    const first = turn.first;
    const last = turn.last;
    const letters = rejected.map(({ record, reason }) =>
      decoder.deadLetter(
        {
          topic: topicPartition.topic,
          partition: topicPartition.partition,
          offset: last,
          key: typeof record.key === 'string' ? Buffer.from(record.key) : (record.key ?? null),
          value: typeof record.value === 'string' ? Buffer.from(record.value) : (record.value ?? null),
          headers: record.headers ?? {},
          timestamp: record.timestamp ?? Date.now(),
        },
        'output-rejected',
        `result for sink ${sink} of the records at offsets ${first}..${last} rejected: ${reason}`,
      ),
    );
    return letters.map((letter) => toDeadLetterRecord(processor.id, letter));
  }
}
