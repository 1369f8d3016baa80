// Feeds the input topic at a fixed rate from the seeded generator, through Kafka outages: what
// cannot be sent waits, in order, and is sent when the broker is back.
import type { LogProducer } from '../../src/connectors/log.js';
import type { RecordSource } from './fraud-input.js';
import type { BadInputKind, InputRecord } from './input.js';

/** How far the input has been acknowledged by Kafka at a moment of the run. */
export interface AckPoint {
  readonly at: number;
  /** Largest nominal event time acknowledged so far. */
  readonly frontier: number;
  readonly acked: number;
}

/**
 * The producer: every 100 ms it generates the events due at `ratePerSec` since start and
 * queues them; one loop sends the queue in order, 500 records at most per send, retrying a
 * failed send after 500 ms for as long as it takes.
 */
export class InputProducer {
  private readonly queue: InputRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private generating = false;
  private sending: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  /** Sends that failed and were retried. */
  retries = 0;
  /** Records acknowledged. */
  acked = 0;
  /** Largest nominal event time acknowledged. */
  frontier = -Infinity;
  /** Where the acknowledged input stood over time (one point per acknowledged send). */
  readonly history: AckPoint[] = [];
  lastError: string | undefined;

  constructor(
    private readonly producer: LogProducer,
    private readonly generator: RecordSource & { bad?(kind: BadInputKind, count: number): InputRecord[] },
    private readonly topic: string,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    this.generating = true;
    this.timer = setInterval(() => this.generate(), 100);
    this.sending = this.sendLoop();
  }

  /** Queues bad records now, between the normal ones. */
  inject(kind: BadInputKind, count: number): void {
    if (!this.generator.bad) throw new Error(`the ${this.topic} source has no bad records`);
    this.queue.push(...this.generator.bad(kind, count));
    this.wake?.();
  }

  /** Stops generating new events (what is queued is still sent). */
  stopGenerating(): void {
    this.generate();
    this.generating = false;
    if (this.timer) clearInterval(this.timer);
  }

  /** Queues one flush record per input partition and resolves once everything queued is acknowledged. */
  async flush(partitions: number, ts: number, timeoutMs: number): Promise<void> {
    for (let p = 0; p < partitions; p++) {
      const record = this.generator.flush(p, ts);
      this.flushes.add(record);
      this.queue.push(record);
    }
    this.wake?.();
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.inFlight) {
      if (Date.now() > deadline) throw new Error(`the producer could not send its last ${this.queue.length} records within ${timeoutMs} ms (${this.lastError ?? 'no error'})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Records waiting to be sent. */
  get backlog(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopGenerating();
    this.wake?.();
    await this.sending;
    await this.producer.close().catch(() => undefined);
  }

  private inFlight = false;
  private readonly flushes = new Set<InputRecord>();

  private generate(): void {
    if (!this.generating) return;
    const due = Math.floor(((Date.now() - this.startedAt) * this.generator.ratePerSec) / 1000);
    const before = this.queue.length;
    while (this.generator.generated < due) {
      const record = this.generator.next();
      if (record === undefined) break;
      this.queue.push(record);
    }
    if (this.queue.length > before) this.wake?.();
  }

  private async sendLoop(): Promise<void> {
    while (!this.closed) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 200);
        });
        this.wake = undefined;
        continue;
      }
      const chunk = this.queue.slice(0, 500);
      this.inFlight = true;
      try {
        await this.producer.send(
          this.topic,
          chunk.map((r) => ({ key: r.key, value: r.value, partition: r.partition })),
        );
        this.queue.splice(0, chunk.length);
        this.acked += chunk.length;
        for (const r of chunk) if (r.nominal > this.frontier && !this.flushes.has(r)) this.frontier = r.nominal;
        this.history.push({ at: Date.now(), frontier: this.frontier, acked: this.acked });
      } catch (err) {
        this.retries++;
        this.lastError = err instanceof Error ? err.message : String(err);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        this.inFlight = false;
      }
    }
  }
}
