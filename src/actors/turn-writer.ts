import type { OutgoingRecord, TopicPartition } from '../connectors/log.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { ResolvedProcessor } from '../processor/define-processor.js';
import type { RejectedOutput, Sink } from '../sinks/sink.js';
import { toDeadLetterRecord } from '../supervision/dead-letter.js';
import type { FailedAttempt } from './partition-pipeline.js';
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
    },
  ) {}

  /** The writes of `turn`, one promise per sink written to (none for an empty turn). */
  write(turn: Turn): Promise<void>[] {
    const { processor, metrics, origin } = this.options;
    const writes: Promise<void>[] = [];
    for (const [name, items] of turn.outputs) {
      writes.push(
        processor.sinks[name].write(items, origin).then((rejected) => {
          metrics.recordsOut.inc({ processor: processor.id, sink: name }, items.length - (rejected?.length ?? 0));
          if (rejected && rejected.length > 0) return this.deadLetterOutputs(name, turn, rejected);
        }),
      );
    }
    if (turn.deadLetters.length > 0) {
      const records = turn.deadLetters.map((letter) => toDeadLetterRecord(processor.id, letter));
      writes.push(
        this.options.deadLetters.write(records, origin).then(() => {
          for (const letter of turn.deadLetters) {
            metrics.deadLetters.inc({ processor: processor.id, reason: letter.kind });
            this.options.failedAttempts.delete(letter.record.offset);
          }
        }),
      );
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
    const { processor, metrics, topicPartition, decoder } = this.options;
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
    return this.options.deadLetters.write(letters.map((letter) => toDeadLetterRecord(processor.id, letter)), this.options.origin).then(() => {
      metrics.deadLetters.inc({ processor: processor.id, reason: 'output-rejected' }, letters.length);
    });
  }
}
