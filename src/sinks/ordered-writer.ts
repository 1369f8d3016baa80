/** Options of {@link OrderedWriter}. */
export interface OrderedWriterOptions<T> {
  /**
   * Most items in one request. Default 1,000: kafkajs groups a send's messages per partition in
   * time quadratic in their number (it copies the partition's array for every message), which
   * took 20% of the CPU of a stateless job at 10,000 per request.
   */
  readonly maxItems?: number;
  /** The size of an item in bytes, to bound requests (a log refuses too large a request). */
  readonly sizeOf?: (item: T) => number;
  /** Most bytes in one request, by `sizeOf`. Default 900,000 (under Kafka's 1 MiB default `max.message.bytes`). */
  readonly maxBytes?: number;
}

interface PendingWrite<T> {
  readonly items: readonly T[];
  readonly origin: string | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Coalesces writes into requests and sends them one request at a time, in order.
 *
 * While a request is in flight, later writes gather into the next one (group commit): a busy
 * sink sends few large requests, an idle one each write at once. Requests are bounded in items
 * and bytes. `write` resolves as soon as every request holding its items has been acknowledged
 * (not the rest of its round), and rejects with the first error among them.
 *
 * **Order per origin survives a failure.** A write names its origin (a partition pipeline).
 * When a request fails, every write of it or after it fails (those acknowledged before stay
 * delivered), their origins are failed, and so does every later write of
 * those origins, queued or yet to come: nothing a partition wrote after a lost write is ever
 * applied. (A downstream stage that saw a partition's later records and watermarks, but not the
 * lost ones, would fire windows without them and then drop their replay as duplicates.) The
 * partition restarts under a new origin and replays.
 *
 * @example
 * const writer = new OrderedWriter<string>((batch) => producer.send('out', batch.map((value) => ({ value }))));
 * await writer.write(['a', 'b'], 'clicks:0#1');
 */
export class OrderedWriter<T> {
  private queue: PendingWrite<T>[] = [];
  private flushing: Promise<void> | undefined;
  private readonly failedOrigins = new Map<string, unknown>();
  private readonly maxItems: number;
  private readonly maxBytes: number;
  private readonly sizeOf: ((item: T) => number) | undefined;

  constructor(
    private readonly send: (batch: T[]) => Promise<void>,
    options: OrderedWriterOptions<T> = {},
  ) {
    this.maxItems = options.maxItems ?? 1_000;
    this.maxBytes = options.maxBytes ?? 900_000;
    this.sizeOf = options.sizeOf;
  }

  write(items: readonly T[], origin?: string): Promise<void> {
    if (origin !== undefined && this.failedOrigins.has(origin)) return Promise.reject(this.failedOrigins.get(origin));
    if (items.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.queue.push({ items, origin, resolve, reject }));
    if (!this.flushing) this.flushing = this.loop();
    return done;
  }

  /** Resolves when everything written so far has been sent (or failed). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const writes = this.queue.filter((w) => this.admit(w));
        this.queue = [];
        // A write resolves as soon as the request holding its last item is acknowledged, not when
        // the whole round is: under load a round is several requests, and the first writes of it
        // would otherwise wait for the last (end-to-end latency).
        let done = 0;
        for (const request of this.requests(writes)) {
          try {
            await this.send(request.items);
          } catch (error) {
            for (const w of writes.slice(done)) {
              if (w.origin !== undefined) this.failedOrigins.set(w.origin, error);
              // Origins are per pipeline instance: forget the oldest failures beyond 10,000.
              if (this.failedOrigins.size > 10_000) this.failedOrigins.delete(this.failedOrigins.keys().next().value as string);
              w.reject(error);
            }
            done = writes.length;
            break;
          }
          for (; done < request.completes; done++) writes[done].resolve();
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** A queued write of an origin that has failed meanwhile fails too, unsent. */
  private admit(write: PendingWrite<T>): boolean {
    if (write.origin === undefined || !this.failedOrigins.has(write.origin)) return true;
    write.reject(this.failedOrigins.get(write.origin));
    return false;
  }

  /**
   * The items of `writes`, in order, cut into requests within the item and byte bounds; with each
   * request, how many of `writes` have all their items sent once it is acknowledged.
   */
  private *requests(writes: readonly PendingWrite<T>[]): Generator<{ items: T[]; completes: number }> {
    let request: T[] = [];
    let bytes = 0;
    for (let w = 0; w < writes.length; w++) {
      for (const item of writes[w].items) {
        const size = this.sizeOf ? this.sizeOf(item) : 0;
        if (request.length > 0 && (request.length >= this.maxItems || bytes + size > this.maxBytes)) {
          yield { items: request, completes: w };
          request = [];
          bytes = 0;
        }
        request.push(item);
        bytes += size;
      }
    }
    if (request.length > 0) yield { items: request, completes: writes.length };
  }
}
