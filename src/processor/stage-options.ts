// Options a processor and each of its repartition stages take alike.

/** Dead-letter and poison-record policy. */
export interface DeadLetterOptions {
  /** Default `<processor id>.dlq`. */
  readonly topic?: string;
  /** Partitions of the dead-letter topic when it has to be created. Default 1. */
  readonly partitions?: number;
  /** A record whose processing failed this many times goes to the dead-letter topic. Default 3. */
  readonly maxAttempts?: number;
}

/** Per-partition buffer bounds: fetch pauses above `highWater` records in flight, resumes below `lowWater`. */
export interface BufferOptions {
  /** Default 10,000. */
  readonly highWater?: number;
  /** Default half of `highWater`. */
  readonly lowWater?: number;
}
