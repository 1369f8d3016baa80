import fc from 'fast-check';
import { filter, map, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  countByKey,
  counting,
  createLogger,
  createTributary,
  defineProcessor,
  hopping,
  MemoryLog,
  repartition,
  session,
  summing,
  toFunction,
  toTopic,
  tumbling,
  type LateRecord,
  type OutgoingRecord,
  type ProcessorDefinition,
  type Sink,
  type StreamRecord,
} from '../../../src/index.js';
import { decodeDeadLetter } from '../../../src/testing/test-records.js';
import { createTestDriver } from '../../../src/testing/index.js';

/**
 * What identifies a dead letter across the two runs: an input record by its offset; a record of a
 * repartition topic by its contents, since its offset there depends on how many watermark control
 * records the upstream batches put before it.
 */
function deadLetterIdentity(d: { processor: string; kind: string; topic: string; partition: number; offset: number; value: string | null }): unknown[] {
  if (!d.topic.endsWith('-repartition')) return [d.processor, d.kind, d.topic, d.partition, d.offset];
  // A late record's dead letter holds the record as JSON, its repartition-topic offset included.
  const record = JSON.parse(d.value ?? 'null') as { offset?: number; value?: unknown } | null;
  return [d.processor, d.kind, d.topic, d.partition, JSON.stringify(record?.value ?? record)];
}

interface Event {
  readonly k: string;
  readonly n: number;
  readonly ts: number;
}
type Rec = StreamRecord<string | null, Event>;

/** A random topology: an optional stateless step, a stateful one, optionally behind a repartition by key. */
interface Spec {
  readonly partitions: number;
  readonly bound: number;
  readonly pre: 'none' | 'filter' | 'map';
  readonly stateful: 'none' | 'tumbling' | 'hopping' | 'session' | 'table';
  readonly size: number;
  readonly repartitioned: boolean;
  readonly lateSink: boolean;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  partitions: fc.integer({ min: 1, max: 3 }),
  bound: fc.constantFrom(0, 20, 50),
  pre: fc.constantFrom('none', 'filter', 'map'),
  stateful: fc.constantFrom('none', 'tumbling', 'hopping', 'session', 'table'),
  size: fc.constantFrom(50, 100, 200),
  repartitioned: fc.boolean(),
  lateSink: fc.boolean(),
});

interface Input {
  readonly k: string;
  readonly n: number;
  readonly ts: number;
  /** Malformed on the wire: a dead letter. */
  readonly bad: boolean;
}

const inputsArb: fc.Arbitrary<Input[]> = fc
  .array(fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd', 'e'), n: fc.integer({ min: 0, max: 9 }), step: fc.integer({ min: 0, max: 30 }), jitter: fc.integer({ min: 0, max: 80 }), bad: fc.boolean() }), {
    minLength: 10,
    maxLength: 150,
    size: 'max',
  })
  .map((raw) => {
    let clock = 1_000;
    return raw.map(({ k, n, step, jitter, bad }) => {
      clock += step;
      return { k, n, ts: clock - jitter, bad: bad && n === 0 };
    });
  });

function stateful(spec: Spec): OperatorFunction<Rec, unknown> {
  const key = (r: Rec) => r.value.k;
  const window = map((w: { key: string; windowStart: number; windowEnd: number; value: number }) => ({ k: w.key, start: w.windowStart, end: w.windowEnd, v: w.value }));
  switch (spec.stateful) {
    case 'none':
      return map((r) => ({ k: r.value.k, n: r.value.n, ts: r.timestamp }));
    case 'tumbling':
      return (records) => records.pipe(tumbling({ size: spec.size, key, aggregate: counting(), store: 'windows' }), window);
    case 'hopping':
      return (records) => records.pipe(hopping({ size: spec.size, advance: spec.size / 2, key, aggregate: summing((r: Rec) => r.value.n), store: 'windows' }), window);
    case 'session':
      return (records) => records.pipe(session({ gap: spec.size, key, aggregate: counting() }), window);
    case 'table':
      return (records) => records.pipe(countByKey({ key, store: 'table' }), map((u) => ({ k: u.key, v: u.value })));
  }
}

function pre(spec: Spec): OperatorFunction<Rec, Rec> {
  if (spec.pre === 'filter') return filter((r) => r.value.n % 3 !== 0);
  if (spec.pre === 'map') return map((r) => ({ ...r, value: { ...r.value, n: r.value.n * 2 } }));
  return (records) => records;
}

/** The topology of `spec`, writing results to the topic `out` and late records to `late`. */
function topology(spec: Spec, late: unknown[]): ProcessorDefinition<string | null, Event> {
  const lateSinks: Record<string, Sink<unknown>> = spec.lateSink ? { late: toFunction('late', (items: readonly LateRecord<Rec>[]) => void late.push(...items.map((l) => l.element.value))) } : {};
  const out = toTopic<unknown>('out', { key: (v) => (v as { k: string }).k });
  if (!spec.repartitioned) {
    return defineProcessor<string | null, Event>({
      id: 'p',
      source: { topics: 'in', timestamp: (r) => r.value.ts },
      eventTime: { outOfOrdernessMs: spec.bound },
      pipeline: (records) => ({ out: records.pipe(pre(spec), stateful(spec)) }),
      sinks: { out, ...lateSinks },
    });
  }
  return defineProcessor<string | null, Event>({
    id: 'p',
    source: { topics: 'in', timestamp: (r) => r.value.ts },
    eventTime: { outOfOrdernessMs: spec.bound },
    pipeline: (records) => ({ 'by-k': records.pipe(pre(spec), map((r) => r.value)) }),
    sinks: {
      ...lateSinks,
      'by-k': repartition<Event>({
        name: 'by-k',
        key: (e) => e.k,
        timestamp: (e) => e.ts,
        partitions: 2,
        pipeline: (events) => ({
          out: events.pipe(map((r) => ({ ...r, timestamp: r.value.ts })), stateful(spec)),
        }),
        sinks: { out, ...lateSinks },
      }),
    },
  });
}

function wire(inputs: readonly Input[]): OutgoingRecord[] {
  return inputs.map((e, i) => ({ key: e.k, value: e.bad ? `{"k":"${e.k}",` : JSON.stringify({ k: e.k, n: e.n, ts: e.ts, i }), timestamp: e.ts }));
}

interface Outcome {
  readonly out: string[];
  readonly late: string[];
  readonly dead: string[];
}

const sorted = (values: readonly unknown[]): string[] => values.map((v) => JSON.stringify(v)).sort();

/** The topology on MemoryLog through the normal app: records produced, the app started, the input finished. */
async function onApp(spec: Spec, inputs: readonly Input[]): Promise<Outcome> {
  const log = new MemoryLog({ autoCreateTopics: true });
  log.createTopic('in', spec.partitions);
  await log.producer().send('in', wire(inputs));
  const late: unknown[] = [];
  const app = createTributary({ log, processors: [topology(spec, late)], logger: createLogger({ level: 'silent' }) });
  await app.start();
  await app.finishInput({ timeoutMs: 20_000 });
  await app.stop();
  const read = (topic: string) => {
    try {
      return log.read(topic);
    } catch {
      return [];
    }
  };
  return {
    out: sorted(read('out').map((r) => JSON.parse(r.value!.toString()) as unknown)),
    late: sorted(late),
    dead: sorted([...read('p.dlq'), ...read('p-by-k.dlq')].map(decodeDeadLetter).map(deadLetterIdentity)),
  };
}

/**
 * The same topology under the test driver, the input piped in chunks (so in other fetch batches
 * than the app's). Not behind a repartition: there, a record behind its upstream partition's
 * watermark that no upstream window judged is late downstream or not depending on whether the
 * watermark went out before it, i.e. on the upstream batch boundaries (the runtime forwards the
 * watermark once per turn), so both runs must take the input in one batch.
 */
async function onDriver(spec: Spec, inputs: readonly Input[], chunkSize: number): Promise<Outcome> {
  const chunk = spec.repartitioned ? Math.max(1, inputs.length) : chunkSize;
  const late: unknown[] = [];
  const driver = await createTestDriver({ processors: [topology(spec, late)], partitions: { in: spec.partitions } });
  const records = wire(inputs);
  for (let i = 0; i < records.length; i += chunk) await driver.input('in').pipeRaw(records.slice(i, i + chunk));
  await driver.endInput();
  await driver.close();
  return {
    out: sorted(driver.output('out').values()),
    late: sorted(late),
    dead: sorted(driver.deadLetters().map(deadLetterIdentity)),
  };
}

describe('the test driver against the app', () => {
  it('gives the outputs, late records and dead letters of the same topology run on MemoryLog by the normal app', async () => {
    const seen = { out: 0, late: 0, dead: 0 };
    await fc.assert(
      fc.asyncProperty(specArb, inputsArb, fc.integer({ min: 1, max: 40 }), async (spec, inputs, chunk) => {
        const expected = await onApp(spec, inputs);
        const actual = await onDriver(spec, inputs, chunk);
        expect(actual).toEqual(expected);
        seen.out += expected.out.length > 0 ? 1 : 0;
        seen.late += expected.late.length > 0 ? 1 : 0;
        seen.dead += expected.dead.length > 0 ? 1 : 0;
      }),
      {
        numRuns: 40,
        // Always among the runs: late records to a late sink, and a repartition.
        examples: [
          [
            { partitions: 1, bound: 0, pre: 'none', stateful: 'tumbling', size: 50, repartitioned: false, lateSink: true },
            [1_000, 1_200, 1_001, 1_300, 1_100].map((ts, i) => ({ k: 'a', n: i + 1, ts, bad: false })),
            2,
          ],
          [
            { partitions: 2, bound: 20, pre: 'filter', stateful: 'hopping', size: 100, repartitioned: true, lateSink: true },
            Array.from({ length: 40 }, (_, i) => ({ k: 'abcde'[i % 5], n: i % 10, ts: 1_000 + i * 13 - (i % 4) * 9, bad: i % 10 === 0 })),
            7,
          ],
        ],
      },
    );
    // The runs compared something: results, late records and dead letters all occurred.
    expect(seen.out).toBeGreaterThan(10);
    expect(seen.late).toBeGreaterThan(0);
    expect(seen.dead).toBeGreaterThan(0);
  }, 120_000);
});
