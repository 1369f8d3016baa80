import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the public API', () => {
  it('loads under plain Node ESM (as users and the examples run it), not only under vitest', () => {
    const script = `import('./src/index.ts').then((m) => console.log(JSON.stringify(Object.keys(m).sort())))`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    const names = JSON.parse(result.stdout) as string[];
    for (const name of ['createTributary', 'defineProcessor', 'MemoryLog', 'KafkaConnector', 'tumbling', 'session', 'repartition', 'Supervisor', 'json', 'toTopic', 'windowedJoin', 'regularJoin', 'streamTableJoin', 'tableTableJoin', 'NullJoinKeyError', 'table', 'globalTable', 'CoPartitioningError', 'TableKeyingError', 'KeyedUnlikeInputError', 'UnpartitionedStoreError']) {
      expect(names).toContain(name);
    }
  }, 90_000);
});
