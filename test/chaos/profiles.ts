// The chaos profiles: `ci` (every fault class once, about 4 minutes on 2 cores) and `soak`
// (rounds of every class, in a new order each round, until the duration is up).

export interface Profile {
  readonly name: 'ci' | 'soak';
  /** Base workers `w1`..`wN` (the rebalance storm adds more for a while). */
  readonly workers: number;
  /** Input events per second. */
  readonly ratePerSec: number;
  /** Run the fraud example as a second processor, fed this many transactions per second (0: not at all). */
  readonly fraudRatePerSec: number;
  readonly keys: number;
  readonly groups: number;
  readonly inputPartitions: number;
  readonly repartitionPartitions: number;
  readonly windowMs: number;
  /** Out-of-orderness bound of the first stage, and the input's disorder. */
  readonly boundMs: number;
  readonly maxRecordBytes: number;
  /** `once`: every fault class once; `cycle`: rounds until `durationMs`. */
  readonly mode: 'once' | 'cycle';
  /** Soak: stop injecting faults after this long. */
  readonly durationMs: number;
  readonly kafkaDownMs: readonly [number, number];
  /** Input flows this long before the first fault. */
  readonly warmupMs: number;
  /** Quiet time after a fault has recovered, before the next one. */
  readonly settleMs: number;
  /**
   * A fault that has not recovered (output covering input produced after it) this long after
   * it healed is a violation: generous, so that only a stuck pipeline trips it.
   */
  readonly recoveryBoundMs: number;
  /** After the last fault: how long the outputs may take to catch up with the whole input. */
  readonly drainTimeoutMs: number;
  /** A worker above this RSS is a violation. */
  readonly rssBoundMb: number;
  /** Kill and restart a worker whose /health fails this long (an orchestrator's liveness probe). */
  readonly livenessMs: number;
}

const common = {
  workers: 3,
  ratePerSec: 200,
  fraudRatePerSec: 25,
  keys: 32,
  groups: 8,
  inputPartitions: 6,
  repartitionPartitions: 6,
  windowMs: 1_000,
  boundMs: 1_500,
  maxRecordBytes: 65_536,
  warmupMs: 8_000,
  settleMs: 2_000,
  recoveryBoundMs: 150_000,
  drainTimeoutMs: 240_000,
  rssBoundMb: 512,
  livenessMs: 30_000,
} as const;

export const PROFILES: Readonly<Record<Profile['name'], Profile>> = {
  ci: { ...common, name: 'ci', mode: 'once', durationMs: 0, kafkaDownMs: [30_000, 30_000] },
  soak: { ...common, name: 'soak', mode: 'cycle', durationMs: 30 * 60_000, kafkaDownMs: [30_000, 70_000] },
};

/** `30m`, `90s`, `1h`, `5000` (ms) → ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration: expected e.g. 30m, 90s, 1h, got '${text}'`);
  const n = Number(match[1]);
  const factors: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  return Math.round(n * factors[match[2] ?? 'ms']);
}
