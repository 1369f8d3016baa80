// The verifier of the never-expiring group totals (a table on a store): every group's updates
// must count exactly the items of that group the stage took in, one by one. A restore that
// double counted (state past the committed offset, a zombie's write) would emit a count above
// that; one that lost state would emit a count twice with later counts missing.
import type { LogRecord } from '../../src/connectors/log.js';
import type { ChaosItem, CountResult, GroupTotal } from './count-topology.js';
import type { Violation } from './verifier.js';

export interface TotalsVerification {
  readonly summary: { groups: number; updates: number; items: number };
  readonly violations: Violation[];
}

/**
 * Checks `totals` against the items of each group found in the window results (deduplicated
 * by window) and the late output: the set of counts emitted for a group must be exactly
 * 1..N, N its items.
 */
export function verifyTotals(data: { counts: readonly LogRecord[]; late: readonly LogRecord[]; totals: readonly LogRecord[] }): TotalsVerification {
  const items = new Map<string, Set<string>>();
  const add = (g: string, id: string) => {
    if (!items.has(g)) items.set(g, new Set());
    items.get(g)!.add(id);
  };
  for (const r of data.counts) {
    const result = parse<CountResult>(r);
    if (result) for (const [k, seq] of result.items) add(result.g, `${k}#${seq}`);
  }
  for (const r of data.late) {
    const item = parse<ChaosItem>(r);
    if (item) add(item.g, `${item.k}#${item.seq}`);
  }
  const counts = new Map<string, Set<number>>();
  for (const r of data.totals) {
    const total = parse<GroupTotal>(r);
    if (!total) continue;
    if (!counts.has(total.g)) counts.set(total.g, new Set());
    counts.get(total.g)!.add(total.count);
  }
  const violations: Violation[] = [];
  for (const g of new Set([...items.keys(), ...counts.keys()])) {
    const n = items.get(g)?.size ?? 0;
    const seen = counts.get(g) ?? new Set<number>();
    const wrong = [...seen].filter((c) => c < 1 || c > n);
    const missing: number[] = [];
    for (let c = 1; c <= n; c++) if (!seen.has(c)) missing.push(c);
    if (wrong.length > 0 || missing.length > 0) {
      violations.push({
        kind: 'wrong-total',
        eventTime: 0,
        detail: `group ${g}: ${n} items, but its total was ${wrong.length ? `also ${wrong.slice(0, 5).join(', ')}` : ''}${missing.length ? ` never ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5})` : ''}` : ''}`,
      });
    }
  }
  let total = 0;
  for (const set of items.values()) total += set.size;
  return { summary: { groups: items.size, updates: data.totals.length, items: total }, violations };
}

function parse<T>(record: LogRecord): T | undefined {
  if (record.value === null) return undefined;
  try {
    return JSON.parse(record.value.toString()) as T;
  } catch {
    return undefined;
  }
}
