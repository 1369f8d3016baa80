import type { PartitionOffset, TopicPartition } from '../connectors/log.js';
import type { FailedAttempt, PartitionPipeline } from '../actors/partition-pipeline.js';
import { decodeResumePoint, encodeResumePoint, type ResumePoint } from '../actors/resume-point.js';
import type { RestoreProgress } from '../state/partition-state.js';

/** The runtime's view of one assigned partition: what outlives each of its actors. */
export interface PartitionEntry {
  readonly topicPartition: TopicPartition;
  readonly key: string;
  /** Its id under the processor's supervisor. */
  readonly childId: string;
  /** The actor's state, for status pages. */
  state: string;
  pipeline: PartitionPipeline | undefined;
  /** Whether fetched batches go to the pipeline (false while starting or restarting). */
  accepting: boolean;
  lastCommitted: number;
  /** Where the next actor of this partition starts: the last commit, or where a failed one left off. */
  resume: ResumePoint;
  /** Whether an actor has run for it before (a new one then seeks back and replays). */
  started: boolean;
  restarts: number;
  /** Times the watchdog found it stalled. */
  stalls: number;
  readonly failedAttempts: Map<number, FailedAttempt>;
  revoked: boolean;
  /** While its stores are restored: how far. */
  restoring: RestoreProgress | undefined;
}

export const keyOf = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`;

/** The entry of a partition just assigned, starting where its group committed (`offset`, with its metadata). */
export function newPartitionEntry(tp: TopicPartition, committed: { readonly offset: number; readonly metadata?: string } | undefined): PartitionEntry {
  const offset = Math.max(0, committed?.offset ?? -1);
  return {
    topicPartition: { topic: tp.topic, partition: tp.partition },
    key: keyOf(tp),
    childId: `partition:${tp.topic}-${tp.partition}`,
    state: 'starting',
    pipeline: undefined,
    accepting: false,
    lastCommitted: offset,
    resume: decodeResumePoint(offset, committed?.metadata),
    started: false,
    restarts: 0,
    stalls: 0,
    failedAttempts: new Map(),
    revoked: false,
    restoring: undefined,
  };
}

/** The offset to commit for `point`, with the resume point in its metadata. */
export function offsetToCommit(entry: PartitionEntry, point: ResumePoint): PartitionOffset {
  return { ...entry.topicPartition, offset: point.offset, metadata: encodeResumePoint(point) };
}

/**
 * Whether a partition's resume point is worth committing: its offset moved, or only its
 * `replayUntil` did (an operator's hold pins the offset while results past it are delivered),
 * or its state positions did.
 */
export function movedSinceCommit(entry: PartitionEntry, point: ResumePoint): boolean {
  return point.offset > entry.lastCommitted || point.replayUntil > entry.resume.replayUntil || stateMoved(entry.resume, point);
}

/** `point` was committed: it is where the partition's next actor resumes. */
export function recordCommitted(entry: PartitionEntry, pipeline: PartitionPipeline, point: ResumePoint): void {
  if (point.offset > entry.lastCommitted || (point.offset === entry.lastCommitted && point.replayUntil > entry.resume.replayUntil) || stateMoved(entry.resume, point)) {
    entry.lastCommitted = point.offset;
    entry.resume = point;
  }
  pipeline.tracker.forgetStatesBefore(point.offset);
  if (point.state) pipeline.state.committed(point.state); // the stores' local copies may take it
}

/** Whether the state positions (or the epoch) of `point` differ from those last committed. */
function stateMoved(committed: ResumePoint, point: ResumePoint): boolean {
  if (!point.state) return false;
  if (!committed.state || committed.state.epoch !== point.state.epoch) return true;
  for (const [name, position] of Object.entries(point.state.positions)) if (committed.state.positions[name] !== position) return true;
  for (const [name, owner] of Object.entries(point.state.owners ?? {})) if (committed.state.owners?.[name] !== owner) return true;
  return false;
}
