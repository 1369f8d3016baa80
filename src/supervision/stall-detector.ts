import { ConfigError } from '../errors.js';

/** What a partition's progress looks like at one moment. */
export interface ProgressSample {
  /** Records handed to the pipeline and not yet complete (their results not all acknowledged). */
  readonly pending: number;
  /** The first offset not yet complete: it moves when the oldest pending work is acknowledged. */
  readonly firstIncomplete: number;
  /** The committed offset. */
  readonly committed: number;
  /**
   * The lowest offset user code holds (`ctx.holds.hold`: results it still owes, e.g. a reply it
   * awaits), undefined when none. A hold is pending work; releasing it is progress.
   */
  readonly lowestHold?: number;
}

/** What {@link StallDetector.observe} concludes. */
export interface StallVerdict {
  readonly stalled: boolean;
  /** How long the pending work has made no progress, ms (0 without pending work). */
  readonly stuckForMs: number;
}

/**
 * Decides whether one partition has stalled: it has pending work (records handed to the
 * pipeline whose results are not acknowledged, or an offset user code holds) and, for
 * `stallTimeoutMs`, none of it completed (fewer pending, the first incomplete offset or the
 * lowest hold moved) and no offset was committed. A sink
 * that is slow but acknowledges something within the timeout is progressing; a partition with
 * nothing pending (idle, or paused with everything acknowledged) is never stalled. A pure
 * function of the samples and their times: the watchdog samples, the tests feed it by hand.
 *
 * @example
 * const detector = new StallDetector(60_000);
 * detector.observe({ pending: 10, firstIncomplete: 5, committed: 5 }, 0);      // not stalled
 * detector.observe({ pending: 10, firstIncomplete: 5, committed: 5 }, 60_000); // stalled, stuck for 60,000 ms
 */
export class StallDetector {
  private last: ProgressSample | undefined;
  private progressAt = 0;

  /** @param stallTimeoutMs a positive number of ms; `Infinity` never stalls. */
  constructor(readonly stallTimeoutMs: number) {
    if (!(stallTimeoutMs > 0)) throw new ConfigError('stallTimeoutMs', `must be a positive number of milliseconds (or Infinity), got ${String(stallTimeoutMs)}`);
  }

  observe(sample: ProgressSample, now: number): StallVerdict {
    const last = this.last;
    this.last = sample;
    const working = sample.pending > 0 || sample.lowestHold !== undefined;
    const held = (s: ProgressSample): number => s.lowestHold ?? Infinity;
    if (
      !working ||
      last === undefined ||
      sample.pending < last.pending ||
      sample.firstIncomplete > last.firstIncomplete ||
      sample.committed > last.committed ||
      held(sample) > held(last)
    ) {
      this.progressAt = now;
      return { stalled: false, stuckForMs: 0 };
    }
    const stuckForMs = now - this.progressAt;
    return { stalled: stuckForMs >= this.stallTimeoutMs, stuckForMs };
  }

  /** Forgets the history (a new pipeline: its work starts now). */
  reset(): void {
    this.last = undefined;
  }
}
