import { assign, fromPromise, setup } from 'xstate';
import type { TopicPartition } from '../connectors/log.js';
import type { PartitionPipeline } from './partition-pipeline.js';

/** Lifecycle events a partition actor accepts. Lifecycle only: records never travel as events. */
export type PartitionActorEvent =
  | { type: 'partition.paused' }
  | { type: 'partition.resumed' }
  | { type: 'partition.failed'; error: Error; offset: number | undefined }
  | { type: 'partition.revoked' }
  | { type: 'partition.stop' };

/** What a partition actor is started with: where it reads, and how to start and drain its pipeline. */
export interface PartitionActorInput {
  readonly topicPartition: TopicPartition;
  /** Seek to the committed offset and subscribe the pipeline. */
  readonly startPipeline: (signal: AbortSignal) => Promise<PartitionPipeline>;
  /** Wait for in-flight writes and commit what is complete. */
  readonly drainPipeline: (pipeline: PartitionPipeline) => Promise<void>;
}

export interface PartitionActorContext {
  readonly topicPartition: TopicPartition;
  readonly input: PartitionActorInput;
  pipeline: PartitionPipeline | undefined;
  error: Error | undefined;
  failedOffset: number | undefined;
}

/**
 * The lifecycle of one assigned partition, as a statechart:
 *
 * ```
 * starting ──► running (flowing ⇄ paused) ──► draining ──► stopped
 *     └───────────────┴──────────────┴──────► failed
 * ```
 *
 * - `starting`: seek to the committed offset, subscribe the pipeline.
 * - `running.flowing` / `running.paused`: fetch runs or is paused by backpressure.
 * - `draining` (on revoke or stop): in-flight writes finish, completed offsets are committed.
 * - `failed` (an operator threw, a sink failed): final; the supervisor decides what next.
 *
 * @example
 * const actor = createActor(partitionActorMachine, { input: { topicPartition, startPipeline, drainPipeline } });
 * actor.start();
 * actor.send({ type: 'partition.revoked' });
 */
export const partitionActorMachine = setup({
  types: {
    context: {} as PartitionActorContext,
    events: {} as PartitionActorEvent,
    input: {} as PartitionActorInput,
  },
  actors: {
    startPipeline: fromPromise<PartitionPipeline, PartitionActorInput>(({ input, signal }) => input.startPipeline(signal)),
    drainPipeline: fromPromise<void, { input: PartitionActorInput; pipeline: PartitionPipeline | undefined }>(
      async ({ input }) => {
        if (input.pipeline) await input.input.drainPipeline(input.pipeline);
      },
    ),
  },
  actions: {
    stopPipeline: ({ context }) => context.pipeline?.stop(),
  },
}).createMachine({
  id: 'partition',
  context: ({ input }) => ({
    topicPartition: input.topicPartition,
    input,
    pipeline: undefined,
    error: undefined,
    failedOffset: undefined,
  }),
  initial: 'starting',
  states: {
    starting: {
      invoke: {
        src: 'startPipeline',
        input: ({ context }) => context.input,
        onDone: { target: 'running', actions: assign({ pipeline: ({ event }) => event.output }) },
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toError(event.error) }) },
      },
      on: {
        'partition.revoked': 'stopped',
        'partition.stop': 'stopped',
      },
    },
    running: {
      initial: 'flowing',
      states: {
        flowing: { on: { 'partition.paused': 'paused' } },
        paused: { on: { 'partition.resumed': 'flowing' } },
      },
      on: {
        'partition.failed': {
          target: 'failed',
          actions: assign({ error: ({ event }) => event.error, failedOffset: ({ event }) => event.offset }),
        },
        'partition.revoked': 'draining',
        'partition.stop': 'draining',
      },
    },
    draining: {
      invoke: {
        src: 'drainPipeline',
        input: ({ context }) => ({ input: context.input, pipeline: context.pipeline }),
        onDone: 'stopped',
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toError(event.error) }) },
      },
      on: {
        'partition.failed': {
          target: 'failed',
          actions: assign({ error: ({ event }) => event.error, failedOffset: ({ event }) => event.offset }),
        },
      },
    },
    stopped: { type: 'final', entry: 'stopPipeline' },
    failed: { type: 'final', entry: 'stopPipeline' },
  },
});

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
