/**
 * The plain-JavaScript anchor of the window scenarios: a keyed count in tumbling event-time
 * windows, per partition, written as a user would write it by hand. The same semantics as
 * tributary's `tumbling({ size, aggregate: counting() })` with no out-of-orderness and no
 * allowed lateness: the watermark is the largest timestamp seen; a window `[s, s + size)` fires
 * (one result per key, in first-seen order) when the watermark reaches `s + size`; a record
 * whose window has fired is late and counted, never added.
 */
export interface LoopResult {
  readonly key: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly value: number;
}

export class LoopTumblingCount {
  private readonly windows = new Map<number, Map<string, number>>();
  private watermark = Number.NEGATIVE_INFINITY;
  /** The earliest open window's start (+∞ when none is open). */
  private earliest = Number.POSITIVE_INFINITY;
  late = 0;

  constructor(private readonly size: number) {}

  /** Adds one record; results of the windows it closes are pushed to `out`. */
  add(key: string, ts: number, out: LoopResult[]): void {
    const start = ts - (((ts % this.size) + this.size) % this.size);
    if (start + this.size <= this.watermark) {
      this.late++;
      return;
    }
    let counts = this.windows.get(start);
    if (counts === undefined) {
      counts = new Map();
      this.windows.set(start, counts);
      if (start < this.earliest) this.earliest = start;
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (ts > this.watermark) {
      this.watermark = ts;
      if (this.earliest + this.size <= ts) this.fire(out);
    }
  }

  private fire(out: LoopResult[]): void {
    const starts = [...this.windows.keys()].sort((a, b) => a - b);
    this.earliest = Number.POSITIVE_INFINITY;
    for (const start of starts) {
      if (start + this.size > this.watermark) {
        this.earliest = start;
        break;
      }
      const counts = this.windows.get(start)!;
      this.windows.delete(start);
      for (const [key, value] of counts) out.push({ key, windowStart: start, windowEnd: start + this.size, value });
    }
  }
}
