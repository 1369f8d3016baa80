import { ConfigError } from '../errors.js';
import type { TableSource, TableView } from '../state/source-table.js';
import { currentPipelineScope } from './pipeline-scope.js';

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
