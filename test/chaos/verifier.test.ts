// The verifiers must notice what they are there to notice: fed a perfect run they find nothing,
// fed a run with one thing broken they find exactly that. Run with
// `npx vitest run --project unit test/chaos` (no broker needed; part of `npm test`).
import { describe, expect, it } from 'vitest';
import { evaluateCard, type FraudAlert } from '../../examples/fraud/card-rules.js';
import { DEFAULT_FRAUD_CONFIG } from '../../examples/fraud/fraud-config.js';
import type { Transaction } from '../../examples/fraud/transaction.js';
import type { LogRecord } from '../../src/connectors/log.js';
import { DeadLetterHeaders } from '../../src/supervision/dead-letter.js';
import type { ChaosEvent, ChaosItem, CountResult } from './count-topology.js';
import { FraudInput } from './fraud-input.js';
import { verifyFraud } from './fraud-verifier.js';
import { InputGenerator, type InputRecord } from './input.js';
import { verify, type VerifyInput } from './verifier.js';

const WINDOW = 1_000;
const BOUND = 1_500;

function record(topic: string, partition: number, offset: number, key: string | null, value: string, headers: Record<string, string> = {}): LogRecord {
  return { topic, partition, offset, key: key === null ? null : Buffer.from(key), value: Buffer.from(value), headers, timestamp: 0 };
}

/** Appends input records to their partitions, giving offsets. */
function toLog(records: readonly InputRecord[]): LogRecord[] {
  const next = new Map<number, number>();
  return records.map((r) => {
    const offset = next.get(r.partition) ?? 0;
    next.set(r.partition, offset + 1);
    return record('input', r.partition, offset, r.key, r.value);
  });
}

function deadLetter(input: LogRecord, reason: string): LogRecord {
  return record('count.dlq', 0, 0, null, String(input.value), {
    [DeadLetterHeaders.partition]: String(input.partition),
    [DeadLetterHeaders.offset]: String(input.offset),
    [DeadLetterHeaders.reason]: reason,
  });
}

/** What a perfect run writes for `input`: windows of the valid events, dead letters for the rest; `late` ids go to the late output. */
function perfectRun(input: readonly LogRecord[], late: ReadonlySet<string> = new Set()): VerifyInput {
  const windows = new Map<string, CountResult>();
  const dlq: LogRecord[] = [];
  const lateRecords: LogRecord[] = [];
  for (const r of input) {
    const key = String(r.key);
    if (key === 'flush') continue;
    if (key.startsWith('bad-')) {
      dlq.push(deadLetter(r, key.startsWith('bad-oversized') ? 'oversized' : 'deserialization'));
      continue;
    }
    const event = JSON.parse(String(r.value)) as ChaosEvent;
    if (event.poison) {
      dlq.push(deadLetter(r, 'poison'));
      continue;
    }
    const item: ChaosItem = { k: event.k, seq: event.seq, g: event.g, p: r.partition, o: r.offset, timestamp: event.ts };
    if (late.has(`${r.partition}:${r.offset}`)) {
      lateRecords.push(record('counts-late', 0, lateRecords.length, event.k, JSON.stringify(item)));
      continue;
    }
    const ws = Math.floor(event.ts / WINDOW) * WINDOW;
    const id = `${event.g}@${ws}`;
    const w = windows.get(id) ?? { g: event.g, ws, we: ws + WINDOW, count: 0, items: [] };
    windows.set(id, { ...w, count: w.count + 1, items: [...w.items, [event.k, event.seq, r.partition, r.offset]] });
  }
  const counts = [...windows.values()].map((w, i) => record('counts', 0, i, w.g, JSON.stringify(w)));
  return { windowMs: WINDOW, boundMs: BOUND, input, counts, late: lateRecords, dlq, stageDlq: [] };
}

function sampleInput(): LogRecord[] {
  const generator = new InputGenerator({ seed: 11, keys: 32, groups: 8, ratePerSec: 200, boundMs: BOUND, t0: 1_000_000, inputPartitions: 6 });
  const records: InputRecord[] = [];
  for (let i = 0; i < 2_000; i++) {
    records.push(generator.next());
    if (i === 500) records.push(...generator.bad('poison', 2), ...generator.bad('malformed', 2), ...generator.bad('oversized', 1), ...generator.bad('proto', 2));
    if (i === 1_000) records.push(...generator.bad('skew', 10));
  }
  return toLog(records);
}

const kinds = (run: VerifyInput): string[] => [...new Set(verify(run).violations.map((v) => v.kind))].sort();

describe('the count verifier', () => {
  const input = sampleInput();

  it('finds nothing wrong in a perfect run', () => {
    const result = verify(perfectRun(input));
    expect(result.violations).toEqual([]);
    expect(result.summary.lost).toBe(0);
    expect(result.summary.poison).toBe(2);
    expect(result.summary.badLines).toBe(5);
    expect(result.summary.skewed).toBe(10);
    expect(result.summary.keysWithGaps).toBe(0);
  });

  it('reports an input in no output as lost, and its window as wrong', () => {
    const run = perfectRun(input);
    const counts = run.counts.map((r, i) => {
      if (i !== 3) return r;
      const w = JSON.parse(String(r.value)) as CountResult;
      return record('counts', 0, i, w.g, JSON.stringify({ ...w, count: w.count - 1, items: w.items.slice(1) }));
    });
    expect(kinds({ ...run, counts })).toEqual(['lost', 'wrong-window']);
    expect(verify({ ...run, counts }).summary.keysWithGaps).toBe(1);
  });

  it('counts an identical re-emission as a duplicate, and a different one as a violation', () => {
    const run = perfectRun(input);
    const same = verify({ ...run, counts: [...run.counts, run.counts[5]] });
    expect(same.violations).toEqual([]);
    expect(same.summary.duplicateResults).toBe(1);
    const w = JSON.parse(String(run.counts[5].value)) as CountResult;
    const partial = record('counts', 0, 999, w.g, JSON.stringify({ ...w, count: 1, items: w.items.slice(0, 1) }));
    expect(kinds({ ...run, counts: [...run.counts, partial] })).toEqual(['different-re-emission']);
  });

  it('reports a key whose items are out of input order within a window', () => {
    const run = perfectRun(input);
    let swapped = false;
    const counts = run.counts.map((r) => {
      const w = JSON.parse(String(r.value)) as CountResult;
      const byKey = new Map<string, number[]>();
      w.items.forEach(([k], i) => byKey.set(k, [...(byKey.get(k) ?? []), i]));
      const pair = [...byKey.values()].find((positions) => positions.length >= 2);
      if (swapped || !pair) return r;
      swapped = true;
      const items = [...w.items];
      [items[pair[0]], items[pair[1]]] = [items[pair[1]], items[pair[0]]];
      return record('counts', r.partition, r.offset, w.g, JSON.stringify({ ...w, items }));
    });
    expect(swapped).toBe(true);
    expect(kinds({ ...run, counts })).toEqual(['order']);
  });

  it('accepts a skewed record in the late output, but not one within the bound', () => {
    const skewed = input.find((r) => String(r.value).includes('"skew":true'))!;
    expect(verify(perfectRun(input, new Set([`${skewed.partition}:${skewed.offset}`]))).violations).toEqual([]);
    const onTime = input.find((r) => String(r.key).startsWith('k') && !String(r.value).includes('skew') && !String(r.value).includes('poison'))!;
    expect(kinds(perfectRun(input, new Set([`${onTime.partition}:${onTime.offset}`])))).toEqual(['on-time-reported-late']);
  });

  it('reports a record both counted and late, a bad record without its dead letter, and a valid one dead-lettered', () => {
    const run = perfectRun(input);
    const counted = JSON.parse(String(run.counts[0].value)) as CountResult;
    const [k, seq, p, o] = counted.items[0];
    const lateItem: ChaosItem = { k, seq, g: counted.g, p, o, timestamp: counted.ws };
    expect(kinds({ ...run, late: [record('counts-late', 0, 0, k, JSON.stringify(lateItem))] })).toContain('double-counted');
    expect(kinds({ ...run, dlq: run.dlq.slice(1) })).toEqual(['lost']);
    const valid = input.find((r) => String(r.key).startsWith('k') && !String(r.value).includes('poison'))!;
    expect(kinds({ ...run, dlq: [...run.dlq, deadLetter(valid, 'poison')] })).toContain('wrongly-dead-lettered');
  });
});

describe('the fraud verifier', () => {
  const source = new FraudInput({ seed: 3, ratePerSec: 25, records: 1_500, inputPartitions: 6 });
  const records: InputRecord[] = [];
  for (let r = source.next(); r !== undefined; r = source.next()) records.push(r);
  const input = toLog(records);
  const dlq = input.filter((r) => String(r.key).startsWith('bad-fraud-') || !isValid(String(r.value))).map((r) => deadLetter(r, 'deserialization'));
  const valid = input.filter((r) => !dlq.some((d) => String(d.headers[DeadLetterHeaders.offset]) === String(r.offset) && String(d.headers[DeadLetterHeaders.partition]) === String(r.partition)));
  const alerts = evaluateCard(valid.map((r) => JSON.parse(String(r.value)) as Transaction), DEFAULT_FRAUD_CONFIG);
  const alertRecords = (list: readonly FraudAlert[]): LogRecord[] => list.map((a, i) => record('fraud-alerts', 0, i, a.cardId, JSON.stringify(a)));
  const run = { boundMs: 5_000, input, alerts: alertRecords(alerts), late: [], dlq };

  it('finds nothing wrong in a perfect run, with alerts of every rule', () => {
    expect(new Set(alerts.map((a) => a.rule)).size).toBe(4);
    expect(verifyFraud(run).violations).toEqual([]);
  });

  it('reports a missing alert as lost, an extra one as wrong, a repeated one as a duplicate', () => {
    expect(verifyFraud({ ...run, alerts: alertRecords(alerts.slice(1)) }).violations.map((v) => v.kind)).toEqual(['lost']);
    const extra: FraudAlert = { ...alerts[0], rule: alerts[0].rule === 'velocity' ? 'amount-spike' : 'velocity' };
    // Right after the alert it was made from (the velocity rule is checked first: 'velocity' goes before it).
    const withExtra = extra.rule === 'velocity' ? [extra, ...alerts] : [alerts[0], extra, ...alerts.slice(1)];
    expect(verifyFraud({ ...run, alerts: alertRecords(withExtra) }).violations.map((v) => v.kind)).toEqual(['wrong-alert']);
    const dup = verifyFraud({ ...run, alerts: alertRecords([...alerts, alerts[2]]) });
    expect(dup.violations).toEqual([]);
    expect(dup.summary.duplicateAlerts).toBe(1);
  });

  it("reports a card's alert first emitted before an earlier one", () => {
    const byCard = new Map<string, number[]>();
    alerts.forEach((a, i) => byCard.set(a.cardId, [...(byCard.get(a.cardId) ?? []), i]));
    const [i, j] = [...byCard.values()].find((list) => list.length >= 2)!;
    const swapped = [...alerts];
    [swapped[i], swapped[j]] = [swapped[j], swapped[i]];
    expect(verifyFraud({ ...run, alerts: alertRecords(swapped) }).violations.map((v) => v.kind)).toEqual(['order']);
  });
});

function isValid(line: string): boolean {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || line.includes('__proto__') || line.includes('constructor')) return false;
    return ['txId', 'cardId', 'merchant', 'country'].every((f) => typeof v[f] === 'string') && ['amount', 'ts'].every((f) => Number.isSafeInteger(v[f]));
  } catch {
    return false;
  }
}
