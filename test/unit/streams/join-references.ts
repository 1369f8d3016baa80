// Plain-loop references of the four joins over JoinEvents: what the operators must give, in
// plain RxJS (test/unit/streams/*-join.test.ts) and through restarts (test/unit/state/join-replay.test.ts).
import type { WindowedJoinType } from '../../../src/streams/windowed-join.js';
import { watermarksBefore, type JoinEvent } from './join-support.js';

export interface WindowedJoinParams {
  readonly before: number;
  readonly after: number;
  readonly grace: number;
  readonly bound: number;
  readonly type: WindowedJoinType;
}

/** The join by a plain loop: what is late, then every pair of on-time records in the window, then the unmatched. */
export function windowedJoinReference(events: readonly JoinEvent[], p: WindowedJoinParams): { results: string[]; late: string[] } {
  const wms = watermarksBefore(events, p.bound);
  const late: string[] = [];
  const kept: JoinEvent[] = [];
  const results: string[] = [];
  events.forEach((e, n) => {
    const reach = e.side === 'L' ? p.after : p.before;
    if (e.ts + reach + 1 + p.grace <= wms[n]) late.push(`${e.i} late`);
    else if (e.k === null) {
      if (e.side === 'L' && p.type !== 'inner') results.push(`${e.i}|-@${e.ts}`);
      else if (e.side === 'R' && p.type === 'outer') results.push(`-|${e.i}@${e.ts}`);
      else late.push(`${e.i} null join key`);
    } else kept.push(e);
  });
  const lefts = kept.filter((e) => e.side === 'L');
  const rights = kept.filter((e) => e.side === 'R');
  const matched = new Set<number>();
  for (const l of lefts) {
    for (const r of rights) {
      if (l.k === r.k && r.ts >= l.ts - p.before && r.ts <= l.ts + p.after) {
        results.push(`${l.i}|${r.i}@${Math.max(l.ts, r.ts)}`);
        matched.add(l.i).add(r.i);
      }
    }
  }
  if (p.type !== 'inner') for (const l of lefts) if (!matched.has(l.i)) results.push(`${l.i}|-@${l.ts}`);
  if (p.type === 'outer') for (const r of rights) if (!matched.has(r.i)) results.push(`-|${r.i}@${r.ts}`);
  return { results, late };
}

export type Ttl = { left?: number; right?: number } | undefined;

/** The join by a plain loop: each record joins the earlier records of the other side still within their TTL. */
export function regularJoinReference(events: readonly JoinEvent[], bound: number, ttl: Ttl) {
  const wms = watermarksBefore(events, bound);
  const ttlOf = (e: JoinEvent) => (e.side === 'L' ? ttl?.left : ttl?.right);
  const kept: JoinEvent[] = [];
  const results: string[] = [];
  const late: string[] = [];
  events.forEach((e, n) => {
    if (e.k === null) return void late.push(`${e.i} null join key`);
    for (const o of kept) {
      const t = ttlOf(o);
      if (o.side === e.side || o.k !== e.k || (t !== undefined && o.ts + t <= wms[n])) continue;
      const [l, r] = e.side === 'L' ? [e, o] : [o, e];
      results.push(`${l.i}|${r.i}@${Math.max(l.ts, r.ts)}`);
    }
    const t = ttlOf(e);
    if (t === undefined || e.ts + t > wms[n]) kept.push(e);
  });
  return { results, late };
}

/** A stream-table join's table update value: every fourth one deletes its key. */
export const updateValue = (e: JoinEvent): string | null => (e.i % 4 === 0 ? null : `v${e.i}`);

/** The join by a plain loop over the source order: a Map is the table. */
export function streamTableJoinReference(events: readonly JoinEvent[], type: 'inner' | 'left') {
  const table = new Map<string, string>();
  const results: string[] = [];
  const late: string[] = [];
  for (const e of events) {
    if (e.side === 'R') {
      if (e.k === null) late.push(`${e.i} null join key`);
      else if (updateValue(e) === null) table.delete(e.k);
      else table.set(e.k, updateValue(e)!);
      continue;
    }
    const value = e.k === null ? undefined : table.get(e.k);
    if (value !== undefined) results.push(`${e.i}|${value}@${e.ts}`);
    else if (type === 'left') results.push(`${e.i}|-@${e.ts}`);
    else if (e.k === null) late.push(`${e.i} null join key`);
  }
  return { results, late };
}

/** A table-table join's update value: every third one deletes its key. */
export const rowValue = (e: JoinEvent): string | null => (e.i % 3 === 0 ? null : `${e.side}${e.i}`);

/**
 * The joined table by a plain loop: after each update, the key's joined value computed from
 * both Maps; emitted when there is one, a tombstone when there was one and is none.
 */
export function tableTableJoinReference(events: readonly JoinEvent[], type: 'inner' | 'left') {
  const tables = { L: new Map<string, { v: string; ts: number }>(), R: new Map<string, { v: string; ts: number }>() };
  const joinedOf = (k: string): string | undefined => {
    const l = tables.L.get(k);
    const r = tables.R.get(k);
    if (l === undefined || (type === 'inner' && r === undefined)) return undefined;
    return `${l.v}+${r?.v ?? '-'}@${Math.max(l.ts, r?.ts ?? -Infinity)}`;
  };
  const results: string[] = [];
  const late: string[] = [];
  for (const e of events) {
    if (e.k === null) {
      late.push(`${e.i} null join key`);
      continue;
    }
    const table = tables[e.side];
    const value = rowValue(e);
    if (value === null && !table.has(e.k)) continue;
    const before = joinedOf(e.k);
    if (value === null) table.delete(e.k);
    else table.set(e.k, { v: value, ts: e.ts });
    const after = joinedOf(e.k);
    if (after !== undefined) results.push(`${e.k} ${after}`);
    else if (before !== undefined) results.push(`${e.k} null@${e.ts}`);
  }
  return { results, late };
}
