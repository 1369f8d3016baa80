import type { Fault, FaultKind } from './schedule.js';
import type { UnexpectedExit } from './worker-pool.js';

/** What happened to one fault (or to the warmup / drain periods). */
export interface FaultRecord {
  readonly index: number;
  readonly kind: FaultKind | 'baseline' | 'drain';
  readonly detail: string;
  readonly fault: Fault | undefined;
  /** ms since the run started. */
  injectedAt: number;
  /** How long the fault lasted (0 for instant ones). */
  durationMs: number;
  /** From injection to the first result covering input produced after the injection; null: never. */
  recoveredAfterMs: number | null;
  /** From the end of the fault to the first result covering input produced after it ended; null: never. */
  stableAfterMs: number | null;
  /** Nominal event time of the acknowledged input when the fault was injected: attributes output anomalies. */
  frontierAtInjection: number;
  partitionFailures: number;
  peakRssMb: number;
  lost: number;
  /** Identical re-emissions of window results (count) written during the fault. */
  duplicates: number;
  /** Identical re-emissions of fraud alerts written during the fault. */
  duplicateAlerts: number;
  orderViolations: number;
  violations: number;
  workerExits: UnexpectedExit[];
  error?: string;
}
