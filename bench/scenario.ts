/**
 * The contract between `bench/run.ts` and a scenario (`bench/scenarios/<name>.ts`).
 *
 * A scenario measures tributary (one or more variants) and its anchors (what tributary is
 * compared with: the raw client, Kafka's own tools, a hand-written equivalent) and says which
 * tributary variant each anchor is compared with.
 */

/** One measured run. Rates exclude start-up and group join unless named `total…`. */
export interface Measurement {
  /** Records consumed in the measurement window. */
  readonly records: number;
  /** Records per second over the measurement window (first batch → last record). */
  readonly recordsPerSec: number;
  /** Records per second from consumer start (connect, group join included) to the last record. */
  readonly totalRecordsPerSec: number;
  readonly seconds: number;
  readonly totalSeconds: number;
  /** CPU seconds (user + system) of the consumer process over the measurement window. */
  readonly cpuSeconds: number;
  /** CPU seconds per million records in the window. */
  readonly cpuSecondsPerMillion: number;
  /** CPU seconds of the broker process over the same run, when the broker is ours to watch. */
  readonly brokerCpuSeconds?: number;
  /** How this measurement was taken, where it differs from the others. */
  readonly note?: string;
  /** Anything else worth keeping (raw tool output, RSS, …). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Set when this run failed: the other fields are then zero. */
  readonly error?: string;
}

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** tributary's variants, by name (e.g. `tributary-bytes`, `tributary-json`). */
  readonly tributary: Readonly<Record<string, Measurement>>;
  /** The anchors, by name. */
  readonly anchors: Readonly<Record<string, Measurement>>;
  /** Per anchor: the tributary variant compared with it. */
  readonly comparedWith: Readonly<Record<string, string>>;
  /** Per anchor: tributary's records/s ÷ the anchor's (≥ 1: tributary is as fast or faster). */
  readonly ratios: Readonly<Record<string, number>>;
  /** Per anchor: tributary's CPU-s per million ÷ the anchor's (≤ 1: tributary costs as little or less). */
  readonly cpuRatios: Readonly<Record<string, number>>;
  /**
   * Scenario-specific figures shown as extra columns of the table (latency percentiles, heap
   * bytes per key…): each reads `details[key]` of every measurement.
   */
  readonly columns?: ReadonlyArray<{ readonly key: string; readonly label: string; readonly digits?: number }>;
  /** Per anchor: tributary's figure ÷ the anchor's for scenario-specific figures (e.g. `{ heapBytesPerKey: 1.4 }`). */
  readonly extraRatios?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly notes: readonly string[];
  /** Wall-clock seconds the whole scenario took (pre-load, every round, clean-up); set by bench/run.ts. */
  readonly wallSeconds?: number;
}

export interface ScenarioOptions {
  /** `--records N`; undefined: the scenario's default. */
  readonly records?: number;
  /** `--partitions P`; undefined: the scenario's default. */
  readonly partitions?: number;
  /** `--rounds R`: run each measurement R times, interleaved, and report medians. Default: the scenario's. */
  readonly rounds?: number;
  /** `--profile`: run tributary's processes under `node --cpu-prof`, profiles in this directory. */
  readonly profileDir?: string;
  /** `--rate R`: the input rate of the latency scenario, records/s (default: half the measured maximum), and of the recovery scenario (default 3,000). */
  readonly rate?: number;
  /** Run tributary's variants only, no anchors (a scenario run by another one for a figure). */
  readonly onlyTributary?: boolean;
  /** Progress for a person watching (stderr). */
  readonly log: (line: string) => void;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}

/** Builds a measurement from a record count, window, and CPU. */
export function measurement(fields: {
  records: number;
  seconds: number;
  totalRecords?: number;
  totalSeconds: number;
  cpuSeconds: number;
  brokerCpuSeconds?: number;
  note?: string;
  details?: Record<string, unknown>;
}): Measurement {
  const { records, seconds, totalSeconds, cpuSeconds } = fields;
  return {
    records,
    recordsPerSec: seconds > 0 ? records / seconds : 0,
    totalRecordsPerSec: totalSeconds > 0 ? (fields.totalRecords ?? records) / totalSeconds : 0,
    seconds,
    totalSeconds,
    cpuSeconds,
    cpuSecondsPerMillion: records > 0 ? cpuSeconds / (records / 1e6) : 0,
    ...(fields.brokerCpuSeconds !== undefined ? { brokerCpuSeconds: fields.brokerCpuSeconds } : {}),
    ...(fields.note ? { note: fields.note } : {}),
    ...(fields.details ? { details: fields.details } : {}),
  };
}

/** A failed run, kept in the results so the others still report. */
export function failed(error: unknown): Measurement {
  return {
    records: 0,
    recordsPerSec: 0,
    totalRecordsPerSec: 0,
    seconds: 0,
    totalSeconds: 0,
    cpuSeconds: 0,
    cpuSecondsPerMillion: 0,
    error: error instanceof Error ? error.message : String(error),
  };
}

/** Ratios of each anchor's paired tributary variant to the anchor. */
export function compare(
  tributary: Readonly<Record<string, Measurement>>,
  anchors: Readonly<Record<string, Measurement>>,
  comparedWith: Readonly<Record<string, string>>,
): { ratios: Record<string, number>; cpuRatios: Record<string, number> } {
  const ratios: Record<string, number> = {};
  const cpuRatios: Record<string, number> = {};
  for (const [anchor, variant] of Object.entries(comparedWith)) {
    const a = anchors[anchor];
    const t = tributary[variant];
    if (!a || !t || a.error || t.error) continue;
    if (a.recordsPerSec > 0) ratios[anchor] = t.recordsPerSec / a.recordsPerSec;
    if (a.cpuSecondsPerMillion > 0) cpuRatios[anchor] = t.cpuSecondsPerMillion / a.cpuSecondsPerMillion;
  }
  return { ratios, cpuRatios };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Several rounds of the same run as one measurement: the median of each figure (taken
 * separately), every round's rate and CPU kept in `details.rounds`. Failed rounds are left out
 * (and counted); when every round failed, the first failure.
 */
export function medianOf(rounds: readonly Measurement[]): Measurement {
  const ok = rounds.filter((m) => !m.error);
  if (ok.length === 0) return rounds[0] ?? failed('no rounds ran');
  const pick = (f: (m: Measurement) => number): number => median(ok.map(f));
  const brokers = ok.map((m) => m.brokerCpuSeconds).filter((v): v is number => v !== undefined);
  const first = ok[0];
  return {
    records: pick((m) => m.records),
    recordsPerSec: pick((m) => m.recordsPerSec),
    totalRecordsPerSec: pick((m) => m.totalRecordsPerSec),
    seconds: pick((m) => m.seconds),
    totalSeconds: pick((m) => m.totalSeconds),
    cpuSeconds: pick((m) => m.cpuSeconds),
    cpuSecondsPerMillion: pick((m) => m.cpuSecondsPerMillion),
    ...(brokers.length === ok.length ? { brokerCpuSeconds: median(brokers) } : {}),
    ...(first.note ? { note: first.note } : {}),
    details: {
      // Numeric details every round has (latency percentiles, RSS, outputs…): their medians.
      ...Object.fromEntries(
        Object.keys(first.details ?? {})
          .filter((k) => ok.every((m) => typeof m.details?.[k] === 'number'))
          .map((k) => [k, median(ok.map((m) => m.details![k] as number))]),
      ),
      rounds: rounds.map((m) =>
        m.error
          ? { error: m.error }
          : { recordsPerSec: Math.round(m.recordsPerSec), cpuSecondsPerMillion: Number(m.cpuSecondsPerMillion.toFixed(3)), details: m.details },
      ),
      ...(ok.length < rounds.length ? { failedRounds: rounds.length - ok.length } : {}),
    },
  };
}
