import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { TableSource, TableView } from '../state/source-table.js';
import { resolveLate } from './event-time-options.js';
import { dropNullKey, joinKey, joinType, lenientTimestamp, noKey, type JoinResult } from './join-inputs.js';
import { currentPipelineScope } from './pipeline-scope.js';
import type { StreamTableJoinOptions } from './stream-table-join.js';
import { requiredFunction } from './validate.js';

/**
 * The table read from `source` in the partition whose pipeline is being built: a
 * {@link ConfigError} outside a processor, or in one whose `tables` option does not name it. Internal.
 */
export function tableViewOf<K, V>(operator: string, source: TableSource<K, V>): TableView<K, V> {
  const scope = currentPipelineScope();
  const view = scope?.stores.table?.(source);
  if (!view) {
    throw new ConfigError(
      `${operator}.table`,
      `the ${source.kind === 'global' ? 'global table' : 'table'} of topic ${source.topic} is not one of the processor's tables: name it in the processor's \`tables\` option (a table from a topic is only joined inside a processor)`,
    );
  }
  return view;
}

/** {@link streamTableJoin} with a table read from a topic (its store, its own position). Internal. */
export function joinTableView<S, U, V, K, T>(operator: string, source: TableSource<K, T>, options: StreamTableJoinOptions<S, U, K, T, V>): OperatorFunction<S, JoinResult<K, V>> {
  const view = tableViewOf(operator, source);
  const type = joinType(operator, options.type, ['inner', 'left'] as const);
  const join = requiredFunction(operator, 'join', options.join as (record: S, value: T | null) => V);
  const late = resolveLate<S>(operator, options.late);
  const streamKey = joinKey(operator, 'key', options.key);
  const timeOf = lenientTimestamp(operator, 'timestamp', options.timestamp);
  const scope = currentPipelineScope();
  return (stream) =>
    new Observable<JoinResult<K, V>>((subscriber) =>
      stream.subscribe({
        next: (record) => {
          try {
            const key = streamKey(record);
            const timestamp = timeOf(record);
            view.advanceTo(timestamp);
            if (noKey(key)) {
              if (type === 'left') subscriber.next({ key: null as K, value: join(record, null), timestamp });
              else dropNullKey(operator, late, record, timestamp, scope?.clock.current ?? -Infinity);
              return;
            }
            const row = view.get(key);
            if (row !== undefined) subscriber.next({ key, value: join(record, row.value), timestamp });
            else if (type === 'left') subscriber.next({ key, value: join(record, null), timestamp });
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}
