/**
 * A small latency histogram (no dependency): exact counts per millisecond up to `maxExactMs`,
 * then buckets growing by 1/64 (≤ 1.6% relative error) up to any value. Latencies here are
 * whole milliseconds (Kafka timestamps are epoch ms), so the exact range is exact.
 *
 * @example
 * const h = new Histogram();
 * h.record(3); h.record(12);
 * h.percentile(99); // 12
 */
export class Histogram {
  private readonly exact: Float64Array;
  private readonly log = new Map<number, number>();
  private n = 0;
  private sum = 0;
  private maxValue = 0;
  private minValue = Number.POSITIVE_INFINITY;

  constructor(private readonly maxExactMs = 10_000) {
    this.exact = new Float64Array(maxExactMs + 1);
  }

  record(valueMs: number): void {
    const v = Math.max(0, Math.round(valueMs));
    if (v <= this.maxExactMs) this.exact[v]++;
    else {
      const bucket = Math.floor(Math.log(v) * 64);
      this.log.set(bucket, (this.log.get(bucket) ?? 0) + 1);
    }
    this.n++;
    this.sum += v;
    if (v > this.maxValue) this.maxValue = v;
    if (v < this.minValue) this.minValue = v;
  }

  get count(): number {
    return this.n;
  }

  /** The smallest recorded value v such that at least p% of the values are ≤ v (upper bucket bound above the exact range). */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let v = 0; v <= this.maxExactMs; v++) {
      seen += this.exact[v];
      if (seen >= rank) return v;
    }
    for (const bucket of [...this.log.keys()].sort((a, b) => a - b)) {
      seen += this.log.get(bucket)!;
      if (seen >= rank) return Math.min(this.maxValue, Math.ceil(Math.exp((bucket + 1) / 64)));
    }
    return this.maxValue;
  }

  summary(): LatencySummary {
    return {
      count: this.n,
      minMs: this.n ? this.minValue : Number.NaN,
      meanMs: this.n ? this.sum / this.n : Number.NaN,
      p50Ms: this.percentile(50),
      p90Ms: this.percentile(90),
      p99Ms: this.percentile(99),
      p999Ms: this.percentile(99.9),
      maxMs: this.n ? this.maxValue : Number.NaN,
    };
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** How long inputs took to reach the pipeline (fetch side of the end-to-end latency), as `arrival…` fields. */
export function arrivalSummary(h: Histogram): { arrivalP50Ms: number; arrivalP99Ms: number; arrivalMaxMs: number } {
  const s = h.summary();
  return { arrivalP50Ms: s.p50Ms, arrivalP99Ms: s.p99Ms, arrivalMaxMs: s.maxMs };
}
