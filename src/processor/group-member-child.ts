import type { Logger } from 'pino';
import type { GroupConsumer, GroupConsumerHandlers, LogConnector } from '../connectors/log.js';
import type { ChildExit, ChildHandle, ChildSpecOptions } from '../supervision/child-spec.js';
import type { ResolvedProcessor } from './define-processor.js';

/** What a processor's group member child needs from the runtime around it. */
export interface GroupMemberChildOptions {
  readonly processor: ResolvedProcessor;
  readonly log: LogConnector;
  readonly logger: Logger;
  readonly drainTimeoutMs: number;
  /** Assignment, revocation, batches and rebalances of the member (its crash is handled here). */
  readonly handlers: Omit<GroupConsumerHandlers, 'onCrash'>;
  /** The member now, or none (set on join, cleared on leave). */
  readonly setConsumer: (consumer: GroupConsumer | undefined) => void;
  readonly currentConsumer: () => GroupConsumer | undefined;
  /** Drains, commits and stops every partition actor left. */
  readonly retireAll: () => Promise<void>;
  /** This node's state per partition, for a state-aware assignment (a processor with standbys). */
  readonly localState?: () => ReadonlyMap<string, number>;
}

/**
 * A processor's consumer-group member as a child of the connectors supervisor (permanent):
 * starting it joins the group; when its client crashes in a way it does not recover from by
 * itself (kafkajs gave up retrying: broker unreachable for long, coordinator lost), the child
 * retires its partitions' actors (drain, commit what is safe; their uncommitted records are
 * replayed by the next owner) and ends as failed, and the supervisor joins again after its
 * backoff. Stopping it drains and commits every partition, then leaves the group.
 */
export function groupMemberChild(id: string, options: GroupMemberChildOptions): ChildSpecOptions {
  return {
    id,
    restart: 'permanent',
    shutdownTimeoutMs: options.drainTimeoutMs + 10_000,
    start: () => joinGroup(options),
  };
}

async function joinGroup(options: GroupMemberChildOptions): Promise<ChildHandle> {
  const { processor, logger } = options;
  const consumer = options.log.groupConsumer({ groupId: processor.groupId, topics: processor.topics, maxBatchRecords: processor.maxBatchRecords, ...(options.localState ? { localState: options.localState } : {}) });
  options.setConsumer(consumer);
  let end!: (exit: ChildExit) => void;
  const done = new Promise<ChildExit>((resolve) => (end = resolve));
  let leaving: Promise<void> | undefined;
  const leave = (): Promise<void> => (leaving ??= leaveGroup(consumer, options));
  try {
    await consumer.start({
      ...options.handlers,
      onCrash: (error) => {
        if (leaving) return;
        logger.error({ err: error }, 'consumer crashed; its partitions are retired and the group joined again after a backoff');
        void leave().then(() => end({ reason: 'failed', error }));
      },
    });
  } catch (err) {
    await leave();
    throw err;
  }
  return {
    done,
    stop: async () => {
      await leave();
      end({ reason: 'shutdown' });
    },
  };
}

/**
 * Leaves the group (draining and committing every partition while still a member, if the
 * client still can, within 10 s), then retires whatever partition actors are left.
 */
async function leaveGroup(consumer: GroupConsumer, options: GroupMemberChildOptions): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    consumer.stop().catch((err: unknown) => options.logger.warn({ err }, 'leaving the consumer group failed')),
    new Promise((resolve) => (timer = setTimeout(resolve, 10_000).unref())),
  ]);
  // Cleared, so that a stopped app leaves no timer behind (the test driver checks).
  clearTimeout(timer);
  if (options.currentConsumer() === consumer) options.setConsumer(undefined);
  await options.retireAll();
}
