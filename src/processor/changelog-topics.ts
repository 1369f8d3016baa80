import type { LogConnector } from '../connectors/log.js';
import { CHANGELOG_CONFIG } from '../state/changelog.js';
import { ChangelogTopicError } from '../state/errors.js';

/**
 * The changelog topics of one processor's stores: each is created when it does not exist
 * (compacted, as many partitions as the input topic), and checked when it does (another
 * partition count, or no compaction, is a {@link ChangelogTopicError} naming it). Once per topic.
 */
export class ChangelogTopics {
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(
    private readonly log: LogConnector,
    /** The partition count of an input topic, undefined when unknown. */
    private readonly partitionCount: (topic: string) => number | undefined,
  ) {}

  /** Resolves once `topic`, the changelog of a store fed by `inputTopic`, exists as it must. */
  ensure(topic: string, inputTopic: string): Promise<void> {
    let ensured = this.ensured.get(topic);
    if (!ensured) {
      ensured = this.create(topic, inputTopic);
      ensured.catch(() => this.ensured.delete(topic));
      this.ensured.set(topic, ensured);
    }
    return ensured;
  }

  private async create(topic: string, inputTopic: string): Promise<void> {
    const partitions = this.partitionCount(inputTopic);
    if (partitions === undefined) throw new ChangelogTopicError(topic, `the partition count of its input topic ${inputTopic} is unknown`);
    const admin = this.log.admin();
    try {
      await admin.ensureTopics([{ name: topic, partitions, config: CHANGELOG_CONFIG }]);
      const count = await admin.partitionCount(topic);
      if (count !== partitions) {
        throw new ChangelogTopicError(topic, `has ${String(count)} partitions, but its input topic ${inputTopic} has ${partitions}: a store's changelog must have as many as its input`);
      }
      const policy = (await admin.topicConfig(topic))?.['cleanup.policy'] ?? '';
      if (!policy.split(',').includes('compact')) {
        throw new ChangelogTopicError(topic, `cleanup.policy is '${policy || 'delete'}': a changelog must be compacted (cleanup.policy=compact), or its state is lost to retention`);
      }
    } finally {
      await admin.close();
    }
  }
}
