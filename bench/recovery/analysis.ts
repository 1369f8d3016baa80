/**
 * The recovery scenario's figures, computed after a run from the output's results (broker
 * append time, input timestamp, input partition and offset, worker) and the moment of the kill.
 *
 * The *lag* of a partition at time t is t − the newest input timestamp among its results
 * appended by t: how far behind the producer its output is; the lag of the killed worker's
 * partitions is the largest of theirs (the partition furthest behind), sampled every 10 ms.
 * Before the kill it is the baseline (a sawtooth of batching and fetch intervals); after the
 * kill it grows until the survivor has taken every one of them over and caught up with its
 * backlog (the records since the last commit, replayed, and those produced meanwhile).
 *
 * @example
 * const f = recoveryFigures({ events, killAt, killed: [1, 4, 7], survivor: 'a', survivorAssignments, baselineFrom, until });
 * f.resumeMs; // kill → the survivor's first result for partitions 1, 4, 7
 */
import type { OutputEvent } from './output-watcher.js';
import type { Assignment } from './worker-process.js';

export interface RecoveryFigures {
  /** Kill → the survivor reported the killed worker's partitions as its own. */
  readonly reassignedMs: number;
  /** Kill → the broker appended the survivor's first result for one of the killed worker's partitions. */
  readonly resumeMs: number;
  /** Kill → the lag of the killed worker's partitions is back within the threshold, and stays there for `stayMs`. */
  readonly lagRecoveredMs: number;
  /** The lag of the killed worker's partitions (the furthest behind) before the kill: median and 99th percentile of the samples. */
  readonly baselineP50Ms: number;
  readonly baselineP99Ms: number;
  /** The highest lag before the kill (a stall of the machine or the worker shows here). */
  readonly baselineMaxMs: number;
  /** `factor` × baselineP99Ms. */
  readonly thresholdMs: number;
  /** The highest lag between the kill and the recovery. */
  readonly peakLagMs: number;
  /** Results written again for an input record that already had one (the survivor replaying from the last commit). */
  readonly replayed: number;
  readonly killedPartitions: number;
}

const STEP_MS = 10;

export function recoveryFigures(args: {
  readonly events: readonly OutputEvent[];
  /** When the worker was killed (epoch ms, the same clock as the broker's append times: one machine). */
  readonly killAt: number;
  /** The killed worker's partitions at the kill. */
  readonly killed: readonly number[];
  readonly survivor: string;
  readonly survivorAssignments: readonly Assignment[];
  /** Start of the baseline (the first results' warm-up left out). */
  readonly baselineFrom: number;
  /** End of the observation: the producer's last record (after it the lag grows by itself). */
  readonly until: number;
  /** Threshold = factor × the baseline's p99. Default 1.5. */
  readonly factor?: number;
  /** How long the lag must stay within the threshold to count as recovered. Default 1,000 ms. */
  readonly stayMs?: number;
}): RecoveryFigures {
  const { killAt, survivor, until } = args;
  const factor = args.factor ?? 1.5;
  const stayMs = args.stayMs ?? 1_000;
  const killed = new Set(args.killed);
  if (killed.size === 0) throw new Error('the killed worker had no partitions');

  const reassigned = args.survivorAssignments.find((a) => a.at >= killAt && args.killed.every((p) => a.partitions.includes(p)));
  if (!reassigned) throw new Error(`the survivor never took over partitions ${args.killed.join(', ')}`);

  const mine = args.events.filter((e) => killed.has(e.partition)).sort((a, b) => a.appendMs - b.appendMs);
  const resumed = mine.find((e) => e.worker === survivor && e.appendMs >= killAt);
  if (!resumed) throw new Error(`no result for partitions ${args.killed.join(', ')} from the survivor after the kill`);

  // lag(t) = t − the oldest of the partitions' newest input timestamps among their results appended by t.
  const samples: Array<{ t: number; lag: number }> = [];
  const newest = new Map<number, number>();
  let i = 0;
  for (let t = args.baselineFrom; t <= until; t += STEP_MS) {
    for (; i < mine.length && mine[i].appendMs <= t; i++) {
      const e = mine[i];
      newest.set(e.partition, Math.max(newest.get(e.partition) ?? Number.NEGATIVE_INFINITY, e.ts));
    }
    if (newest.size === killed.size) samples.push({ t, lag: t - Math.min(...newest.values()) });
  }
  const baseline = samples.filter((s) => s.t < killAt).map((s) => s.lag).sort((a, b) => a - b);
  if (baseline.length < 100) throw new Error(`too short a baseline before the kill (${baseline.length} samples of ${STEP_MS} ms)`);
  const pct = (p: number): number => baseline[Math.min(baseline.length - 1, Math.ceil((p / 100) * baseline.length) - 1)];
  const baselineP99Ms = pct(99);
  const thresholdMs = factor * baselineP99Ms;

  let recoveredAt: number | undefined;
  let runStart: number | undefined;
  let peakLagMs = 0;
  for (const s of samples) {
    if (s.t < killAt) continue;
    peakLagMs = Math.max(peakLagMs, s.lag);
    if (s.t < resumed.appendMs || s.lag > thresholdMs) {
      runStart = undefined;
      continue;
    }
    runStart ??= s.t;
    if (s.t - runStart >= stayMs) {
      recoveredAt = runStart;
      break;
    }
  }
  if (recoveredAt === undefined) {
    throw new Error(`the lag of partitions ${args.killed.join(', ')} did not come back within ${thresholdMs.toFixed(0)} ms (${factor} × the baseline p99) for ${stayMs} ms before the producer stopped, ${((until - killAt) / 1000).toFixed(1)} s after the kill`);
  }

  const seen = new Set<number>();
  let replayed = 0;
  for (const e of [...args.events].sort((a, b) => a.appendMs - b.appendMs)) {
    const key = e.partition * 2 ** 32 + e.offset;
    if (seen.has(key)) replayed++;
    else seen.add(key);
  }

  return {
    reassignedMs: reassigned.at - killAt,
    resumeMs: resumed.appendMs - killAt,
    lagRecoveredMs: recoveredAt - killAt,
    baselineP50Ms: pct(50),
    baselineP99Ms,
    baselineMaxMs: baseline[baseline.length - 1],
    thresholdMs,
    peakLagMs,
    replayed,
    killedPartitions: killed.size,
  };
}
