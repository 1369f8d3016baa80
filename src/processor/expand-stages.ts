import { json } from '../serdes/json.js';
import { string } from '../serdes/string.js';
import type { Sink } from '../sinks/sink.js';
import type { ProcessorDefinition } from './define-processor.js';
import { isRepartitionSink, repartitionTopic } from './repartition.js';

/**
 * The processor definitions a definition stands for: itself, then one per repartition stage
 * (depth first), each reading its internal topic, with `upstream` naming the topics whose
 * partitions feed it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expandStages(definition: ProcessorDefinition<any, any>): ProcessorDefinition<any, any>[] {
  const sinks: Record<string, Sink<unknown>> =
    typeof (definition.sinks as Sink<unknown>).write === 'function'
      ? { default: definition.sinks as Sink<unknown> }
      : (definition.sinks as Record<string, Sink<unknown>>);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const result: ProcessorDefinition<any, any>[] = [definition];
  const upstreamTopics = typeof definition.source.topics === 'string' ? [definition.source.topics] : [...definition.source.topics];
  for (const sink of Object.values(sinks)) {
    if (!isRepartitionSink(sink)) continue;
    const stage = sink.repartition;
    const stageDefinition: ProcessorDefinition<string, unknown> = {
      id: `${definition.id}-${stage.name}`,
      groupId: `${definition.groupId ?? definition.id}-${stage.name}`,
      source: { topics: repartitionTopic(definition.id, stage.name), key: string() as never, value: json() },
      pipeline: stage.pipeline,
      sinks: stage.sinks,
      deadLetters: stage.deadLetters,
      buffer: stage.buffer,
      commitIntervalMs: stage.commitIntervalMs ?? definition.commitIntervalMs,
      repartitionPurgeIntervalMs: definition.repartitionPurgeIntervalMs,
      maxBatchRecords: definition.maxBatchRecords,
      upstream: { topics: upstreamTopics },
      restartStrategy: definition.restartStrategy,
      tables: stage.tables,
      guarantee: definition.guarantee,
    };
    result.push(...expandStages(stageDefinition));
  }
  return result;
}
