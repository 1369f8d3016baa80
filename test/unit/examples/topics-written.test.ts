import { describe, expect, it } from 'vitest';
import { topicsWritten } from '../../../examples/shared/topics-written.js';
import { defineProcessor, type ProcessorDefinition } from '../../../src/processor/define-processor.js';
import { repartition } from '../../../src/processor/repartition.js';
import { toFunction } from '../../../src/sinks/function-sink.js';

describe('topicsWritten (the examples create the topics their processors write)', () => {
  it('creates a repartition topic as the runtime does: no time retention, so records with old event times are kept until their stage purges them', () => {
    const stage = defineProcessor<string, { page: string }>({
      id: 'clicks',
      source: { topics: 'in' },
      pipeline: (records) => records,
      sinks: repartition<{ page: string }>({ name: 'by-page', key: (v) => v.page, partitions: 3, pipeline: (views) => views, sinks: toFunction('out', () => undefined) }),
    });
    const specs = topicsWritten([stage as unknown as ProcessorDefinition<unknown, unknown>], ['out'], 6);
    const byName = new Map(specs.map((s) => [s.name, s]));
    expect(byName.get('clicks-by-page-repartition')).toMatchObject({ partitions: 3, config: { 'retention.ms': '-1' } });
    expect(byName.get('out')?.config?.['retention.ms']).toBeUndefined(); // outputs keep the broker's retention
    expect(byName.get('clicks.dlq')).toMatchObject({ partitions: 1 });
  });
});
