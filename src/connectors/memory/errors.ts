/**
 * Errors the embedded {@link MemoryLog} raises. Decide with `instanceof` (or `retriable`), never
 * by comparing `err.name`.
 *
 * They share {@link MemoryLogError} so that rebasing them on tributary's shared `TributaryError`
 * later is a one-line change. None is retriable: in one process, retrying the same call gives
 * the same answer.
 */

/** Base of every MemoryLog error. */
export abstract class MemoryLogError extends Error {
  /** Whether retrying the same call could succeed. */
  abstract readonly retriable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A record is larger than the log's `maxMessageBytes` (Kafka's `message.max.bytes`).
 *
 * @example
 * try { await producer.send('clicks', [{ value: huge }]); }
 * catch (err) { if (err instanceof RecordTooLargeError) deadLetter(err.topic, err.sizeBytes); }
 */
export class RecordTooLargeError extends MemoryLogError {
  readonly retriable = false;

  constructor(
    readonly topic: string,
    /** Key + value + header names and values, in bytes. */
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(`Record of ${sizeBytes} bytes for topic "${topic}" exceeds maxMessageBytes (${maxBytes} bytes)`);
  }
}

/** The topic does not exist and the log does not create topics on demand (`autoCreateTopics: false`). */
export class UnknownTopicError extends MemoryLogError {
  readonly retriable = false;

  constructor(readonly topic: string) {
    super(`Unknown topic "${topic}": create it first (admin().ensureTopics / createTopic) or set autoCreateTopics`);
  }
}

/** A record names a partition the topic does not have. */
export class UnknownPartitionError extends MemoryLogError {
  readonly retriable = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly partitionCount: number,
  ) {
    super(`Topic "${topic}" has no partition ${partition} (it has ${partitionCount}: 0..${partitionCount - 1})`);
  }
}

/** A topic name Kafka would reject: 1-249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`. */
export class InvalidTopicError extends MemoryLogError {
  readonly retriable = false;

  constructor(readonly topic: string) {
    super(`Invalid topic name ${JSON.stringify(topic)}: use 1-249 characters of [a-zA-Z0-9._-], not "." or ".."`);
  }
}

/** A topic exists with another partition count than the one asked for. */
export class PartitionCountMismatchError extends MemoryLogError {
  readonly retriable = false;

  constructor(
    readonly topic: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`Topic "${topic}" exists with ${actual} partitions, expected ${expected}`);
  }
}

/** An option or argument is out of range; the message names it. */
export class InvalidOptionError extends MemoryLogError {
  readonly retriable = false;

  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`Invalid ${option}: ${message}`);
  }
}

/** A client was used in a state that does not allow the call (a closed producer, a consumer started twice). */
export class ClientStateError extends MemoryLogError {
  readonly retriable = false;
}

/**
 * A member removed from its group by another (a {@link GroupEviction}) tried to commit before it
 * learnt it was removed: the commit is refused, as Kafka refuses it (`UNKNOWN_MEMBER_ID`), since
 * its partitions may already be another member's.
 *
 * @example
 * try { await consumer.commit(offsets); }
 * catch (err) { if (err instanceof MemberEvictedError) logger.warn(err.memberId, 'evicted'); }
 */
export class MemberEvictedError extends MemoryLogError {
  readonly retriable = false;

  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {
    super(`Member ${memberId} was removed from group "${groupId}": its commit is refused`);
  }
}
