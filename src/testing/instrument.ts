import { map, type Observable } from 'rxjs';
import { TributaryError } from '../errors.js';
import type { PipelineContext, ProcessorDefinition } from '../processor/define-processor.js';
import { isRepartitionSink, repartition } from '../processor/repartition.js';
import type { Sink } from '../sinks/sink.js';
import { currentPipelineScope, type PipelineScope } from '../streams/pipeline-scope.js';
import type { StreamRecord } from '../streams/stream-record.js';

/** A failure the test asked for: thrown inside the pipeline at a record, as a user operator's throw would be. */
export class InjectedFailure extends TributaryError {
  constructor(
    readonly processor: string,
    readonly record: { readonly topic: string; readonly partition: number; readonly offset: number },
  ) {
    super(`failure injected by the test driver in ${processor} at ${record.topic}[${record.partition}]@${record.offset}`);
  }
}

/**
 * Where {@link TestDriver.failAt} makes a pipeline fail: the records matching every field given
 * (and `when`, if given), the first `times` times one reaches the pipeline (default once).
 *
 * @example
 * driver.failAt({ topic: 'clicks', partition: 0, offset: 3 });                 // once
 * driver.failAt({ when: (r) => r.value.txId === 't7', times: Infinity });      // every attempt: a poison record
 */
export interface FailureOptions {
  /** The processor (or repartition stage, `<processor>-<name>`) whose pipeline fails. Default: any. */
  readonly processor?: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly when?: (record: StreamRecord<any, any>) => boolean;
  /** How many deliveries of a matching record fail. Default 1; `Infinity` for every attempt. */
  readonly times?: number;
}

/** A failure rule and how often it has fired. */
export interface InjectedFailures {
  /** Deliveries that failed so far. */
  readonly fired: number;
}

interface FailureRule extends InjectedFailures {
  readonly options: FailureOptions;
  fired: number;
}

/** One pipeline instance the driver saw built: a partition's latest (a restart builds a new one). */
export interface DriverPartition {
  readonly processorId: string;
  readonly context: PipelineContext;
  readonly scope: PipelineScope | undefined;
  /** Source stage (its watermark follows its own records), not downstream of a repartition. */
  readonly source: boolean;
}

/** What the driver learns from the instrumented definitions. */
export class Instrumentation {
  /** By `<processor>|<topic>:<partition>`. */
  readonly partitions = new Map<string, DriverPartition>();
  /** Items each sink acknowledged, in acknowledgement order, by `<processor>/<sink>`. */
  readonly written = new Map<string, unknown[]>();
  private readonly rules: FailureRule[] = [];
  /** Grows with every sink write and pipeline built: part of what tells the driver the app is at rest. */
  activity = 0;

  addFailure(options: FailureOptions): InjectedFailures {
    const times = options.times ?? 1;
    if (!(times >= 1)) throw new TributaryError(`failAt: times must be at least 1 (or Infinity), got ${String(times)}`);
    if (options.offset === undefined && options.when === undefined) throw new TributaryError('failAt: give an offset or a when(record) predicate');
    const rule: FailureRule = { options: { ...options, times }, fired: 0 };
    this.rules.push(rule);
    return rule;
  }

  /** Whether this delivery of `record` into `processorId`'s pipeline fails (counting it if so). */
  shouldFail(processorId: string, record: StreamRecord): boolean {
    for (const rule of this.rules) {
      const o = rule.options;
      if (rule.fired >= (o.times ?? 1)) continue;
      if (o.processor !== undefined && o.processor !== processorId) continue;
      if (o.topic !== undefined && o.topic !== record.topic) continue;
      if (o.partition !== undefined && o.partition !== record.partition) continue;
      if (o.offset !== undefined && o.offset !== record.offset) continue;
      if (o.when !== undefined && !o.when(record)) continue;
      rule.fired++;
      return true;
    }
    return false;
  }

  /**
   * `definition` with the same operators and sinks, observed: each pipeline built is recorded
   * (its context and the pipeline scope that holds its stores), records pass a check that throws
   * where a failure was asked for, and each sink's acknowledged items are recorded. Repartition
   * stages are instrumented the same way, recursively.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition(definition: ProcessorDefinition<any, any>): ProcessorDefinition<any, any> {
    return {
      ...definition,
      pipeline: this.pipeline(definition.id, definition.upstream === undefined, definition.pipeline),
      sinks: this.sinks(definition.id, definition.sinks),
    };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private pipeline<P extends (records: Observable<any>, context: PipelineContext) => unknown>(processorId: string, source: boolean, pipeline: P): P {
    const wrapped = (records: Observable<StreamRecord>, context: PipelineContext) => {
      this.activity++;
      this.partitions.set(`${processorId}|${context.topic}:${context.partition}`, { processorId, context, scope: currentPipelineScope(), source });
      // Each output subscribes to the records: decide once per record (per pipeline instance).
      const decided = new WeakMap<object, boolean>();
      const checked = records.pipe(
        map((record) => {
          let fail = decided.get(record);
          if (fail === undefined) {
            fail = this.shouldFail(processorId, record);
            decided.set(record, fail);
          }
          if (fail) throw new InjectedFailure(processorId, record);
          return record;
        }),
      );
      return pipeline(checked as never, context);
    };
    return wrapped as P;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private sinks(processorId: string, sinks: Sink<any> | Readonly<Record<string, Sink<any>>>): Sink<any> | Record<string, Sink<any>> {
    if (typeof (sinks as Sink<unknown>).write === 'function') return this.sink(processorId, 'default', sinks as Sink<unknown>);
    const result: Record<string, Sink<unknown>> = {};
    for (const [name, sink] of Object.entries(sinks as Record<string, Sink<unknown>>)) result[name] = this.sink(processorId, name, sink);
    return result;
  }

  private sink(processorId: string, name: string, sink: Sink<unknown>): Sink<unknown> {
    if (isRepartitionSink(sink)) {
      const stage = sink.repartition;
      const stageId = `${processorId}-${stage.name}`;
      return repartition({ ...stage, pipeline: this.pipeline(stageId, false, stage.pipeline), sinks: this.sinks(stageId, stage.sinks) });
    }
    const key = `${processorId}/${name}`;
    const written: unknown[] = [];
    this.written.set(key, written);
    return {
      name: sink.name,
      start: sink.start ? (context) => sink.start!(context) : undefined,
      stop: sink.stop ? () => sink.stop!() : undefined,
      write: async (items, origin) => {
        const rejected = await sink.write(items, origin);
        const refused = new Set((rejected ?? []).map((r) => r.index));
        for (let i = 0; i < items.length; i++) if (!refused.has(i)) written.push(items[i]);
        this.activity++;
        return rejected;
      },
    };
  }
}
