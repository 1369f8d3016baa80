import type { FraudVerification } from './fraud-verifier.js';
import type { FaultRecord } from './fault-record.js';
import type { AckPoint } from './producer.js';
import type { Duplicate, Verification, Violation } from './verifier.js';
import type { UnexpectedExit } from './worker-pool.js';

/** Fills in each fault's share of violations, duplicates, failures, exits and RSS, by wall time. */
export function attribute(
  faults: FaultRecord[],
  startedAt: number,
  found: {
    verification: Verification | undefined;
    fraudVerification: FraudVerification | undefined;
    countHistory: readonly AckPoint[];
    fraudHistory: readonly AckPoint[];
    rss: ReadonlyArray<{ at: number; worker: string; kb: number }>;
    failuresAt: readonly number[];
    exits: readonly UnexpectedExit[];
  },
): void {
  if (faults.length === 0) return;
  const byWallTime = (at: number): FaultRecord => {
    let owner = faults[0];
    for (const f of faults) if (startedAt + f.injectedAt <= at) owner = f;
    return owner;
  };
  // A lost input belongs to the fault during which it was produced.
  const producedAt = (history: readonly AckPoint[], eventTime: number): number =>
    history.find((p) => p.frontier >= eventTime)?.at ?? history[history.length - 1]?.at ?? startedAt;
  const charge = (violations: readonly Violation[], duplicates: readonly Duplicate[], history: readonly AckPoint[]): void => {
    // Lost inputs by when they were produced; re-emissions and disorder by when they were written.
    for (const v of violations) {
      const f = byWallTime(v.at ?? producedAt(history, v.eventTime));
      f.violations++;
      if (v.kind === 'lost') f.lost++;
      if (v.kind === 'order') f.orderViolations++;
    }
    for (const d of duplicates) {
      if (d.topic === 'counts') byWallTime(d.at ?? producedAt(history, d.eventTime)).duplicates++;
      if (d.topic === 'alerts') byWallTime(d.at ?? producedAt(history, d.eventTime)).duplicateAlerts++;
    }
  };
  if (found.verification) charge(found.verification.violations, found.verification.duplicates, found.countHistory);
  if (found.fraudVerification) charge(found.fraudVerification.violations, found.fraudVerification.duplicates, found.fraudHistory);
  for (const s of found.rss) {
    const f = byWallTime(s.at);
    f.peakRssMb = Math.max(f.peakRssMb, Math.round(s.kb / 1024));
  }
  for (const at of found.failuresAt) byWallTime(at).partitionFailures++;
  for (const exit of found.exits) byWallTime(exit.at).workerExits.push(exit);
}
