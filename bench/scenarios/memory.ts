/**
 * Scenario `memory`: heap bytes per key of tumbling-window state at 1,000,000 keys, embedded
 * (MemoryLog), next to a plain `Map<string, number>` holding the same counts. One child per run
 * under `node --expose-gc` (bench/memory/heap.ts): the heap after the records are in the log
 * and after they were counted, both after full collections; the difference ÷ keys.
 *
 * Records/s and CPU-s per M here are per key, while the state is built.
 */
import { fmtInt } from '../lib/format.js';
import { interleaved, measureNode, type RunSpec } from '../lib/runs.js';
import { compare, type Measurement, type Scenario, type ScenarioOptions, type ScenarioResult } from '../scenario.js';

const DEFAULT_KEYS = 1_000_000;
const DEFAULT_PARTITIONS = 4;
const DEFAULT_ROUNDS = 1;

export const memory: Scenario = {
  name: 'memory',
  description: 'heap bytes per key of tumbling-window count state and of the in-memory key-value store at 1,000,000 keys (embedded) vs a plain Map<string, number>',
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const keys = options.records ?? DEFAULT_KEYS;
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const { log, profileDir } = options;
    const run = (variant: string, name: string, round: number): Promise<Measurement> =>
      measureNode({
        name,
        round,
        script: 'bench/memory/heap.ts',
        nodeFlags: ['--expose-gc'],
        profileDir: variant !== 'js-map' ? profileDir : undefined,
        args: ['--variant', variant, '--keys', String(keys), '--partitions', String(partitions), '--label', name],
        timeoutMs: 120_000 + keys / 5,
        log,
      }).then((m) => {
        if (!m.error) log(`${name}: ${Number(m.details?.heapBytesPerKey).toFixed(1)} heap bytes per key (${Number(m.details?.stateHeapMiB).toFixed(1)} MiB for ${fmtInt(keys)} keys)`);
        return m;
      });
    const specs: RunSpec[] = [
      { name: 'js-map', kind: 'anchor', run: (r) => run('js-map', 'js-map', r) },
      { name: 'tributary-tumbling', kind: 'tributary', run: (r) => run('tributary', 'tributary-tumbling', r) },
      { name: 'tributary-kv-store', kind: 'tributary', run: (r) => run('kv-store', 'tributary-kv-store', r) },
    ];
    const { anchors, tributary } = await interleaved(specs, rounds, log);
    const comparedWith = { 'js-map': 'tributary-tumbling' };
    const { ratios, cpuRatios } = compare(tributary, anchors, comparedWith);
    const perKey = (m: Measurement | undefined): number | undefined => (typeof m?.details?.heapBytesPerKey === 'number' ? m.details.heapBytesPerKey : undefined);
    const t = perKey(tributary['tributary-tumbling']);
    const a = perKey(anchors['js-map']);
    const kv = perKey(tributary['tributary-kv-store']);
    const extra: Record<string, number> = {};
    if (t !== undefined && a) extra.heapBytesPerKey = t / a;
    if (kv !== undefined && a) extra['heapBytesPerKey.kvStore'] = kv / a;
    return {
      name: 'memory',
      description: memory.description,
      params: { keys, partitions, rounds },
      tributary,
      anchors,
      comparedWith,
      ratios,
      cpuRatios,
      extraRatios: Object.keys(extra).length > 0 ? { 'js-map': extra } : {},
      columns: [
        { key: 'heapBytesPerKey', label: 'heap B/key', digits: 1 },
        { key: 'stateHeapMiB', label: 'state MiB', digits: 1 },
      ],
      notes: [
        `${fmtInt(keys)} distinct keys (u0, u1, …), one record each, all in one open 10 s window, in a MemoryLog topic of ${partitions} partitions; heapUsed after full GCs (node --expose-gc), state = heap after counting − heap after loading the log`,
        'tributary-tumbling: createTributary + defineProcessor, tumbling({ size: 10 s, aggregate: counting(), clock, holds, late }) per record key (string() serde), paused while the log is filled, then resumed until every record is complete',
        'tributary-kv-store: the same counts in the in-memory key-value store (MemoryKeyValueStore, logged, as countByKey keeps them), its changes taken once as a checkpoint would (goal ≤ 1.5× the plain Map)',
        'js-map: Map<string, number>, keys decoded from the same Buffers',
        t !== undefined && a ? `tributary's window state: ${(t / a).toFixed(2)}× the plain Map's heap per key` : 'ratio unavailable',
        kv !== undefined && a ? `tributary's key-value store: ${(kv / a).toFixed(2)}× the plain Map's heap per key` : 'key-value store ratio unavailable',
      ],
    };
  },
};
