import { isRepartitionSink, repartitionTopic, type ProcessorDefinition, type Sink, type TopicSpec } from 'tributary';

/** The dead-letter topic of a processor (or stage): its own, or `<id>.dlq`. */
export function deadLetterTopicOf(definition: ProcessorDefinition<unknown, unknown>): string {
  return definition.deadLetters?.topic ?? `${definition.id}.dlq`;
}

/**
 * Kafka's `max.message.bytes` of the topics the app writes: 16 MiB rather than the broker's
 * default 1 MiB. The runtime's sinks send up to 10,000 coalesced records in one request, all in
 * one record batch per partition, which a busy 1-partition topic (or dead letters of large
 * lines) can push past 1 MiB; Kafka then refuses the whole batch (see the examples README).
 */
const TOPIC_CONFIG = { 'max.message.bytes': String(16 * 1024 * 1024) };

/** Every topic the app's processors write, with its partitions: outputs, late, repartition topics, dead letters. */
export function topicsWritten(stages: readonly ProcessorDefinition<unknown, unknown>[], outputTopics: readonly string[], partitions: number): TopicSpec[] {
  const specs = new Map<string, TopicSpec>();
  for (const name of outputTopics) specs.set(name, { name, partitions, config: TOPIC_CONFIG });
  for (const stage of stages) {
    const dlq = deadLetterTopicOf(stage);
    specs.set(dlq, { name: dlq, partitions: stage.deadLetters?.partitions ?? 1, config: TOPIC_CONFIG });
    const sinks = typeof (stage.sinks as Sink<unknown>).write === 'function' ? [stage.sinks as Sink<unknown>] : Object.values(stage.sinks as Record<string, Sink<unknown>>);
    for (const sink of sinks) {
      if (!isRepartitionSink(sink)) continue;
      const name = repartitionTopic(stage.id, sink.repartition.name);
      // As the runtime creates a repartition topic: no time retention (its records carry their
      // event time, which may be older than the broker's 7 days; its stage purges it instead).
      specs.set(name, { name, partitions: sink.repartition.partitions ?? 4, replicationFactor: sink.repartition.replicationFactor, config: { ...TOPIC_CONFIG, 'retention.ms': '-1' } });
    }
  }
  return [...specs.values()];
}
