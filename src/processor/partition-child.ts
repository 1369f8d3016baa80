import { createActor } from 'xstate';
import type { Logger } from 'pino';
import type { GroupConsumer, TopicPartition } from '../connectors/log.js';
import { partitionActorMachine } from '../actors/partition-actor.js';
import type { PartitionPipeline, PartitionPipelineOptions } from '../actors/partition-pipeline.js';
import type { ResumePoint } from '../actors/resume-point.js';
import type { TributaryMetrics } from '../observability/metrics.js';
import type { ChildExit, ChildHandle } from '../supervision/child-spec.js';
import { PartitionStalledError } from '../supervision/errors.js';
import type { ResolvedProcessor } from './define-processor.js';
import type { PartitionEventBody } from './lifecycle-event.js';
import type { PartitionEntry } from './partition-entry.js';

/** What a partition's supervised child needs from the processor runtime around it. */
export interface PartitionChildContext {
  readonly processor: ResolvedProcessor;
  readonly metrics: TributaryMetrics;
  /** The processor's group member now (undefined while out of the group). */
  readonly consumer: () => GroupConsumer | undefined;
  /** Whether the processor is paused by the user. */
  readonly paused: () => boolean;
  /** A new pipeline for the partition, not yet started, reporting through `hooks`. */
  readonly newPipeline: (entry: PartitionEntry, logger: Logger, hooks: Pick<PartitionPipelineOptions, 'onFailure' | 'onBackpressure'>) => PartitionPipeline;
  /** Claims the partition's state for a new epoch (commits `point` strictly). */
  readonly claim: (entry: PartitionEntry, point: ResumePoint) => Promise<void>;
  /** Checkpoints the pipeline's stores and commits its resume point, if it moved. */
  readonly commitEntry: (entry: PartitionEntry, pipeline: PartitionPipeline) => Promise<void>;
  readonly emitPartition: (tp: TopicPartition, event: PartitionEventBody) => void;
  /**
   * Exactly-once: called before each start of the partition's actor, before anything is read.
   * It registers the partition's transactional producer (fencing a zombie) and, when it had to,
   * reads the committed resume point again into the entry (see `PartitionTransaction.fence`).
   */
  readonly beforeStart?: (entry: PartitionEntry) => Promise<void>;
}

/**
 * Starts a partition actor (the supervisor's child start): its pipeline begins at the
 * partition's resume point, restoring its stores first; after a restart the consumer is sought
 * back there, so the new actor replays. The handle's `done` says how the actor ended; a failed
 * actor has drained and committed what was safe before it reports the failure.
 */
export async function startPartitionChild(entry: PartitionEntry, context: PartitionChildContext, processorLogger: Logger): Promise<ChildHandle> {
  const { processor, metrics, emitPartition } = context;
  await context.beforeStart?.(entry);
  const resume = entry.resume;
  const seek = entry.started;
  if (entry.started) entry.restarts++;
  entry.started = true;
  const { topicPartition } = entry;
  const logger = processorLogger.child({ topic: topicPartition.topic, partition: topicPartition.partition });
  const actor = createActor(partitionActorMachine, {
    input: {
      topicPartition,
      startPipeline: async () => {
        const pipeline = context.newPipeline(entry, logger, {
          onFailure: (error, failedOffset) => actor.send({ type: 'partition.failed', error, offset: failedOffset }),
          onBackpressure: (paused) => {
            if (paused) context.consumer()?.pause(topicPartition);
            else if (!context.paused()) context.consumer()?.resume(topicPartition);
            // A settle after the actor stopped (its last writes acknowledged while draining) changes nothing.
            if (actor.getSnapshot().status === 'active') actor.send({ type: paused ? 'partition.paused' : 'partition.resumed' });
            emitPartition(topicPartition, paused ? { type: 'partition.paused' } : { type: 'partition.resumed' });
          },
        });
        pipeline.start();
        const restored = await pipeline.restore((point) => context.claim(entry, point)).finally(() => (entry.restoring = undefined));
        if (restored) {
          metrics.restoreSeconds.observe({ processor: processor.id }, restored.durationMs / 1000);
          logger.info({ ...restored }, 'partition state restored');
          emitPartition(topicPartition, { type: 'partition.restored', ...restored });
        }
        return pipeline;
      },
      drainPipeline: async (pipeline) => {
        entry.accepting = false;
        await pipeline.drain();
        await context.commitEntry(entry, pipeline);
      },
    },
  });
  let resolveRunning!: () => void;
  const running = new Promise<void>((resolve) => (resolveRunning = resolve));
  const done = new Promise<ChildExit>((resolveDone) => {
    let last = '';
    actor.subscribe({
      next: (snapshot) => {
        const state = stateName(snapshot.value);
        if (state === last) return;
        metrics.actors.inc({ processor: processor.id, state }, 1);
        if (last) metrics.actors.dec({ processor: processor.id, state: last }, 1);
        last = state;
        entry.state = state;
        if (state.startsWith('running') && !entry.pipeline) {
          entry.pipeline = snapshot.context.pipeline;
          const consumer = context.consumer();
          try {
            if (seek) {
              consumer?.seek(topicPartition, resume.offset);
              if (!context.paused()) consumer?.resume(topicPartition);
            }
            if (context.paused()) consumer?.pause(topicPartition);
          } catch (err) {
            // The group member is being replaced (its client crashed while this actor started; an
            // exactly-once start, which registers a transactional producer, makes that window
            // wider): the partition is revoked with it, and its next owner starts from the commit.
            logger.warn({ err }, 'could not seek, resume or pause the partition: its group member is being replaced');
          }
          entry.accepting = !entry.revoked;
          logger.info({ offset: resume.offset, restarts: entry.restarts }, 'partition actor running');
          emitPartition(topicPartition, { type: 'partition.started', offset: resume.offset });
          resolveRunning();
        }
        if (snapshot.status === 'done') {
          metrics.actors.dec({ processor: processor.id, state }, 1);
          resolveRunning();
          if (state === 'failed') {
            const error = snapshot.context.error ?? new Error('partition actor failed');
            void afterFailure(entry, context, processorLogger, error, snapshot.context.failedOffset).then(() => resolveDone({ reason: 'failed', error }));
          } else {
            entry.pipeline = undefined;
            emitPartition(topicPartition, { type: 'partition.stopped', committed: entry.lastCommitted });
            resolveDone({ reason: 'shutdown' });
          }
        }
      },
    });
  });
  actor.start();
  await running;
  return {
    done,
    stop: async () => {
      entry.accepting = false;
      actor.send({ type: 'partition.stop' });
      await done;
    },
  };
}

/** A partition actor failed: drain what was in flight, commit what is safe, and remember where to resume. */
async function afterFailure(entry: PartitionEntry, context: PartitionChildContext, logger: Logger, error: Error, offset: number | undefined): Promise<void> {
  entry.accepting = false;
  const { topicPartition } = entry;
  logger.error({ err: error, topic: topicPartition.topic, partition: topicPartition.partition, offset }, 'partition actor failed');
  context.emitPartition(topicPartition, { type: 'partition.failed', error, offset });
  const pipeline = entry.pipeline;
  entry.pipeline = undefined;
  // The failure may have been raised in the middle of a batch: let that batch's turn register
  // its writes first, so that draining waits for them and the records before the failure count.
  await new Promise((resolve) => setImmediate(resolve));
  if (!pipeline) return;
  // A stalled partition's writes may never settle: what was acknowledged is all that counts.
  if (!(error instanceof PartitionStalledError)) await pipeline.drain();
  await context.commitEntry(entry, pipeline).catch((err: unknown) => logger.warn({ err }, 'commit after failure failed'));
  // Exactly-once: what the failed pipeline wrote since its last commit is aborted; it resumes from that commit.
  if (context.processor.guarantee !== 'exactly-once') entry.resume = pipeline.resumePoint();
}

function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [parent, child] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    return child === undefined ? String(parent) : `${parent}.${stateName(child)}`;
  }
  return String(value);
}
