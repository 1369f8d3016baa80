import type { StateMark } from '../state/partition-state.js';
import type { ResumePoint, TimeState } from './resume-point.js';

/** A checkpoint written: the state at input `offset` is in the changelogs up to `mark`'s positions. */
export interface Checkpoint {
  readonly offset: number;
  readonly time: TimeState;
  readonly mark: StateMark;
}

/**
 * The checkpoints of a partition's stores, ascending by offset; the first is where the restore
 * left the state (or the last one a commit could name). A commit names the latest checkpoint
 * whose records are all complete: a restore reads the changelogs up to its positions, and
 * yields the state at its offset exactly.
 */
export class StateCheckpoints {
  private checkpoints: Checkpoint[];

  /** Starts at the restored state: `mark` at the resume point's offset. */
  constructor(resume: ResumePoint, mark: StateMark) {
    this.checkpoints = [{ offset: resume.offset, time: resume.time, mark }];
  }

  /** A checkpoint was written (at an offset ≥ every earlier one's). */
  add(checkpoint: Checkpoint): void {
    const last = this.checkpoints[this.checkpoints.length - 1];
    if (last.offset === checkpoint.offset) this.checkpoints[this.checkpoints.length - 1] = checkpoint;
    else this.checkpoints.push(checkpoint);
  }

  /**
   * The resume point of the latest checkpoint at or before `limit` (the first record not yet
   * complete), delivered up to `replayUntil`. Older checkpoints are forgotten: they can never be
   * chosen again.
   */
  resumePoint(limit: number, replayUntil: number): ResumePoint {
    let chosen = 0;
    for (let i = this.checkpoints.length - 1; i > 0; i--) {
      if (this.checkpoints[i].offset <= limit) {
        chosen = i;
        break;
      }
    }
    if (chosen > 0) this.checkpoints = this.checkpoints.slice(chosen);
    const checkpoint = this.checkpoints[0];
    return { offset: checkpoint.offset, time: checkpoint.time, replayUntil: Math.max(checkpoint.offset, replayUntil), state: checkpoint.mark };
  }
}
