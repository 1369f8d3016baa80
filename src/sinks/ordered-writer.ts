/**
 * Coalesces writes into batches and sends them one batch at a time, in order.
 *
 * While a batch is in flight, later items gather into the next batch (group commit): a busy
 * sink sends few large requests, an idle one sends each item at once. `write` resolves when the
 * batch holding its items has been acknowledged, and rejects with that batch's error.
 *
 * @example
 * const writer = new OrderedWriter<string>((batch) => producer.send('out', batch.map((value) => ({ value }))));
 * await writer.write(['a', 'b']);
 */
export class OrderedWriter<T> {
  private queue: T[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly send: (batch: T[]) => Promise<void>,
    private readonly maxBatch = 10_000,
  ) {}

  write(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    for (const item of items) this.queue.push(item);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
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
        // Every waiter registered so far has all its items in `queue`; split only between waiters' items
        // when the batch is too large, by sending in chunks and settling the waiters after the last one.
        const items = this.queue;
        const waiters = this.waiters;
        this.queue = [];
        this.waiters = [];
        try {
          for (let i = 0; i < items.length; i += this.maxBatch) {
            await this.send(items.slice(i, i + this.maxBatch));
          }
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
