// The verifier: reads back what the run wrote (input, counts, late items, dead letters,
// the repartition topic) and checks it against a plain loop over the input. Pure: the harness
// reads the topics, this decides. `verifier.test.ts` feeds it broken outputs to prove it notices.
import type { LogRecord } from '../../src/connectors/log.js';
import { RepartitionHeaders } from '../../src/processor/repartition.js';
import { DeadLetterHeaders } from '../../src/supervision/dead-letter.js';
import type { ChaosEvent, ChaosItem, CountResult } from './count-topology.js';
import { BAD_KEY_PREFIX, EXPECTED_DEAD_LETTER, FLUSH_KEY, type BadInputKind } from './input.js';

/** What the verifier reads. */
export interface VerifyInput {
  readonly windowMs: number;
  readonly boundMs: number;
  readonly input: readonly LogRecord[];
  readonly counts: readonly LogRecord[];
  readonly late: readonly LogRecord[];
  /** Dead letters of the first stage. */
  readonly dlq: readonly LogRecord[];
  /** Dead letters of the repartition stage. */
  readonly stageDlq: readonly LogRecord[];
  /** The repartition topic (for counting re-written items); optional. */
  readonly repartition?: readonly LogRecord[];
}

/** The classes of violation. Any one fails the run. */
export type ViolationKind =
  | 'lost' // an input in no output, late output or dead-letter topic
  | 'different-re-emission' // a window emitted twice with different contents
  | 'wrong-window' // a window's contents differ from the reference
  | 'spurious-window' // a window the reference does not have
  | 'double-counted' // an input in two windows, or counted and late
  | 'phantom-item' // an output item that matches no input
  | 'order' // a key's items out of input order within a window
  | 'on-time-reported-late' // a record within the bound went to the late output
  | 'wrongly-dead-lettered' // a valid record in a dead-letter topic, or a bad one with the wrong reason
  | 'bad-record-counted' // a poison or bad record in a result
  | 'wrong-alert' // fraud: an alert the reference does not have
  | 'wrong-total'; // a never-expiring group total that skipped or double counted an item

/** One violation, with the event time it concerns (for attributing it to a fault). */
export interface Violation {
  readonly kind: ViolationKind;
  /** Event time of the input or window start concerned. */
  readonly eventTime: number;
  /** When the offending output record was written (its log timestamp), when there is one. */
  readonly at?: number;
  readonly detail: string;
}

/** Something odd that is not a violation (reported, does not fail the run). */
export interface Notice {
  readonly kind: 'input-duplicate' | 'input-gap' | 'stage-dead-letter' | 'malformed-output';
  readonly eventTime: number;
  readonly detail: string;
}

/** An identical re-emission (allowed by at-least-once), with the event time it concerns. */
export interface Duplicate {
  readonly topic: 'counts' | 'late' | 'dlq' | 'repartition' | 'alerts';
  readonly eventTime: number;
  /** When the re-emission was written (its log timestamp). */
  readonly at?: number;
}

export interface Verification {
  readonly summary: {
    readonly inputRecords: number;
    readonly events: number;
    readonly poison: number;
    readonly badLines: number;
    readonly skewed: number;
    readonly counted: number;
    readonly late: number;
    readonly deadLettered: number;
    readonly lost: number;
    /** Input keys, and those whose sequence numbers 0..max do not all reach an output, the late output or a dead letter. */
    readonly keys: number;
    readonly keysWithGaps: number;
    readonly windows: number;
    readonly referenceWindows: number;
    readonly countResults: number;
    readonly duplicateResults: number;
    readonly duplicateLate: number;
    readonly duplicateDeadLetters: number;
    /** Items an upstream partition wrote again to the repartition topic (dropped downstream). */
    readonly repartitionRewrites: number;
    readonly orderViolations: number;
    readonly violations: number;
  };
  readonly violations: readonly Violation[];
  readonly duplicates: readonly Duplicate[];
  readonly notices: readonly Notice[];
  /** Event time and wall... of each lost input: for reproduction. */
  readonly lostInputs: ReadonlyArray<{ id: string; key: string; seq: number | undefined; ts: number; kind: string }>;
}

type InputClass =
  | { readonly type: 'event'; readonly event: ChaosEvent; readonly mustBeOnTime: boolean }
  | { readonly type: 'poison'; readonly event: ChaosEvent }
  | { readonly type: 'bad'; readonly kind: Exclude<BadInputKind, 'poison' | 'skew'>; readonly ts: number };

const text = (b: Buffer | null): string => (b === null ? '' : b.toString('utf8'));
const header = (r: LogRecord, name: string): string | undefined => {
  const v = r.headers[name];
  return v === undefined ? undefined : String(v);
};

/**
 * Checks the run's outputs against its input:
 *
 * - every input record is accounted for exactly once: a valid event in one window result or in
 *   the late output, a poison or bad record in the dead-letter topic with the right reason;
 * - each window result equals the reference (the plain loop over the valid events that were
 *   not late, grouped by repartition key and window);
 * - a window emitted more than once was emitted identically (counted as duplicates);
 * - within a window result, each input key's items are in input order;
 * - a record within the out-of-orderness bound of its partition is never late.
 */
export function verify(data: VerifyInput): Verification {
  const violations: Violation[] = [];
  const notices: Notice[] = [];
  const duplicates: Duplicate[] = [];
  const windowOf = (ts: number): number => Math.floor(ts / data.windowMs) * data.windowMs;

  // 1. The input, classified, with the on-time promise computed as the first stage's watermark.
  const inputs = new Map<string, InputClass>();
  const maxTsByPartition = new Map<number, number>();
  const seenSeq = new Map<string, string>(); // `${k}#${seq}` → id: producer re-sends
  const seqsByKey = new Map<string, number[]>();
  let events = 0;
  let poison = 0;
  let badLines = 0;
  let skewed = 0;
  const sortedInput = [...data.input].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const r of sortedInput) {
    const id = `${r.partition}:${r.offset}`;
    const key = text(r.key);
    if (key === FLUSH_KEY) continue;
    if (key.startsWith(BAD_KEY_PREFIX)) {
      const kind = key.slice(BAD_KEY_PREFIX.length).replace(/-\d+$/, '') as Exclude<BadInputKind, 'poison' | 'skew'>;
      inputs.set(id, { type: 'bad', kind, ts: r.timestamp });
      badLines++;
      continue;
    }
    const event = JSON.parse(text(r.value)) as ChaosEvent;
    const seqKey = `${event.k}#${event.seq}`;
    if (seenSeq.has(seqKey)) {
      notices.push({ kind: 'input-duplicate', eventTime: event.ts, detail: `${seqKey} written twice by the producer (${seenSeq.get(seqKey)} and ${id})` });
    } else {
      seenSeq.set(seqKey, id);
      seqsByKey.set(event.k, [...(seqsByKey.get(event.k) ?? []), event.seq]);
    }
    if (event.poison) {
      inputs.set(id, { type: 'poison', event });
      poison++;
      continue;
    }
    const maxBefore = maxTsByPartition.get(r.partition) ?? -Infinity;
    inputs.set(id, { type: 'event', event, mustBeOnTime: event.ts >= maxBefore - data.boundMs });
    if (event.ts > maxBefore) maxTsByPartition.set(r.partition, event.ts);
    events++;
    if (event.skew) skewed++;
  }
  for (const [k, seqs] of seqsByKey) {
    const sorted = [...seqs].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i++) {
      if (sorted[i] !== i) {
        notices.push({ kind: 'input-gap', eventTime: 0, detail: `key ${k}: sequence ${i} missing from the input topic (the producer's send was acknowledged?)` });
        break;
      }
    }
  }
  const eventTimeOf = (id: string): number => {
    const c = inputs.get(id);
    return c === undefined ? 0 : c.type === 'bad' ? c.ts : c.event.ts;
  };

  // 2. Dead letters.
  const deadLettered = new Map<string, string[]>(); // id → reasons
  const dlqSeen = new Set<string>();
  for (const r of data.dlq) {
    const id = `${header(r, DeadLetterHeaders.partition)}:${header(r, DeadLetterHeaders.offset)}`;
    const reason = header(r, DeadLetterHeaders.reason) ?? '?';
    const identity = `${id}|${reason}`;
    if (dlqSeen.has(identity)) {
      duplicates.push({ topic: 'dlq', eventTime: eventTimeOf(id), at: r.timestamp });
      continue;
    }
    dlqSeen.add(identity);
    deadLettered.set(id, [...(deadLettered.get(id) ?? []), reason]);
  }
  for (const r of data.stageDlq) {
    let item: ChaosItem | undefined;
    try {
      item = JSON.parse(text(r.value)) as ChaosItem;
    } catch {
      item = undefined;
    }
    const reason = header(r, DeadLetterHeaders.reason) ?? '?';
    const id = item ? `${item.p}:${item.o}` : '?';
    notices.push({ kind: 'stage-dead-letter', eventTime: item?.timestamp ?? 0, detail: `${id} dead-lettered by the repartition stage: ${reason}: ${header(r, DeadLetterHeaders.error)}` });
    if (item) deadLettered.set(id, [...(deadLettered.get(id) ?? []), `stage:${reason}`]);
  }

  // 3. Count results: duplicates must be identical.
  const results = new Map<string, { canonical: string; result: CountResult; at: number }>();
  for (const r of data.counts) {
    let result: CountResult;
    try {
      result = JSON.parse(text(r.value)) as CountResult;
    } catch {
      notices.push({ kind: 'malformed-output', eventTime: 0, detail: `counts ${r.partition}:${r.offset} is not JSON` });
      continue;
    }
    const windowKey = `${result.g}@${result.ws}`;
    const canonical = text(r.value);
    const previous = results.get(windowKey);
    if (!previous) {
      results.set(windowKey, { canonical, result, at: r.timestamp });
    } else if (previous.canonical === canonical) {
      duplicates.push({ topic: 'counts', eventTime: result.ws, at: r.timestamp });
    } else {
      violations.push({
        kind: 'different-re-emission',
        eventTime: result.ws,
        at: r.timestamp,
        detail: `window ${windowKey} emitted twice with different contents: ${summarise(previous.result)} then ${summarise(result)} (counts ${r.partition}:${r.offset})`,
      });
    }
  }

  // 4. Which window counted each input; order per key within each window.
  const countedIn = new Map<string, string>();
  let orderViolations = 0;
  for (const [windowKey, { result, at }] of results) {
    if (result.count !== result.items.length) {
      violations.push({ kind: 'wrong-window', eventTime: result.ws, detail: `window ${windowKey}: count ${result.count} but ${result.items.length} items` });
    }
    const lastOffsetByKey = new Map<string, number>();
    for (const [k, seq, p, o] of result.items) {
      const id = `${p}:${o}`;
      const input = inputs.get(id);
      if (!input || input.type !== 'event' || input.event.k !== k || input.event.seq !== seq || input.event.g !== result.g || windowOf(input.event.ts) !== result.ws) {
        const what = !input ? 'no such input' : input.type !== 'event' ? `a ${input.type === 'bad' ? input.kind : 'poison'} record` : `input is ${input.event.k}#${input.event.seq} ${input.event.g} ts ${input.event.ts}`;
        violations.push({
          kind: input && input.type !== 'event' ? 'bad-record-counted' : 'phantom-item',
          eventTime: result.ws,
          detail: `window ${windowKey} holds ${k}#${seq} from ${id}: ${what}`,
        });
        continue;
      }
      const other = countedIn.get(id);
      if (other !== undefined) {
        violations.push({ kind: 'double-counted', eventTime: input.event.ts, detail: `${k}#${seq} (${id}) is in ${other} and in ${windowKey}` });
      } else {
        countedIn.set(id, windowKey);
      }
      const last = lastOffsetByKey.get(k);
      if (last !== undefined && o <= last) {
        orderViolations++;
        violations.push({ kind: 'order', eventTime: result.ws, at, detail: `window ${windowKey}: ${k}#${seq} (offset ${o}) after offset ${last} of the same key` });
      }
      lastOffsetByKey.set(k, o);
    }
  }

  // 5. Late items.
  const lateIds = new Set<string>();
  for (const r of data.late) {
    const item = JSON.parse(text(r.value)) as ChaosItem;
    const id = `${item.p}:${item.o}`;
    if (lateIds.has(id)) {
      duplicates.push({ topic: 'late', eventTime: item.timestamp, at: r.timestamp });
      continue;
    }
    lateIds.add(id);
    const input = inputs.get(id);
    if (!input || input.type !== 'event') {
      violations.push({ kind: 'phantom-item', eventTime: item.timestamp, detail: `late item ${item.k}#${item.seq} from ${id} matches no valid input` });
      continue;
    }
    if (countedIn.has(id)) {
      violations.push({ kind: 'double-counted', eventTime: item.timestamp, detail: `${item.k}#${item.seq} (${id}) is late and also in window ${countedIn.get(id)}` });
    }
    if (input.mustBeOnTime) {
      violations.push({
        kind: 'on-time-reported-late',
        eventTime: item.timestamp,
        detail: `${item.k}#${item.seq} (${id}, ts ${item.timestamp}) was within the bound of its partition but went to the late output`,
      });
    }
  }

  // 6. Every input accounted for.
  const lostInputs: Array<{ id: string; key: string; seq: number | undefined; ts: number; kind: string }> = [];
  let counted = 0;
  let dlqCount = 0;
  for (const [id, input] of inputs) {
    const reasons = deadLettered.get(id);
    if (input.type === 'event') {
      const inWindow = countedIn.has(id);
      const isLate = lateIds.has(id);
      if (inWindow) counted++;
      if (reasons) {
        violations.push({ kind: 'wrongly-dead-lettered', eventTime: input.event.ts, detail: `valid event ${input.event.k}#${input.event.seq} (${id}) dead-lettered: ${reasons.join(', ')}` });
        dlqCount++;
      } else if (!inWindow && !isLate) {
        lostInputs.push({ id, key: input.event.k, seq: input.event.seq, ts: input.event.ts, kind: input.event.skew ? 'skewed event' : 'event' });
      }
      continue;
    }
    const expected = input.type === 'poison' ? EXPECTED_DEAD_LETTER.poison : EXPECTED_DEAD_LETTER[input.kind];
    const ts = input.type === 'poison' ? input.event.ts : input.ts;
    if (!reasons) {
      lostInputs.push({ id, key: input.type === 'poison' ? input.event.k : input.kind, seq: input.type === 'poison' ? input.event.seq : undefined, ts, kind: input.type === 'poison' ? 'poison' : input.kind });
      continue;
    }
    dlqCount++;
    if (!reasons.some((reason) => expected.includes(reason))) {
      violations.push({ kind: 'wrongly-dead-lettered', eventTime: ts, detail: `${input.type === 'poison' ? 'poison' : input.kind} record ${id} dead-lettered as ${reasons.join(', ')}, expected ${expected.join(' or ')}` });
    }
  }
  // Flink's allround check: every key's sequence numbers 0..max reach an output, the late output or a dead letter.
  const accounted = new Map<string, Set<number>>();
  for (const [id, input] of inputs) {
    if (input.type === 'bad') continue;
    const reached = input.type === 'event' ? countedIn.has(id) || lateIds.has(id) || deadLettered.has(id) : deadLettered.has(id);
    if (!reached) continue;
    const seqs = accounted.get(input.event.k) ?? new Set<number>();
    seqs.add(input.event.seq);
    accounted.set(input.event.k, seqs);
  }
  let keysWithGaps = 0;
  for (const [k, seqs] of seqsByKey) {
    const max = Math.max(...seqs);
    const got = accounted.get(k) ?? new Set<number>();
    let missing = 0;
    for (let seq = 0; seq <= max; seq++) if (!got.has(seq)) missing++;
    if (missing > 0) keysWithGaps++;
  }
  for (const lost of lostInputs) {
    violations.push({ kind: 'lost', eventTime: lost.ts, detail: `${lost.kind} ${lost.key}${lost.seq === undefined ? '' : `#${lost.seq}`} (input ${lost.id}, ts ${lost.ts}) is in no output, late output or dead-letter topic` });
  }

  // 7. Window results against the reference: a plain loop over the valid events that were not late.
  const reference = new Map<string, string[]>();
  for (const [id, input] of inputs) {
    if (input.type !== 'event' || lateIds.has(id) || deadLettered.has(id)) continue;
    const windowKey = `${input.event.g}@${windowOf(input.event.ts)}`;
    const list = reference.get(windowKey) ?? [];
    list.push(id);
    reference.set(windowKey, list);
  }
  for (const [windowKey, ids] of reference) {
    const got = results.get(windowKey);
    const ws = Number(windowKey.slice(windowKey.indexOf('@') + 1));
    if (!got) {
      violations.push({ kind: 'wrong-window', eventTime: ws, detail: `window ${windowKey} (${ids.length} events) was never emitted` });
      continue;
    }
    const want = [...ids].sort().join(',');
    const have = got.result.items.map(([, , p, o]) => `${p}:${o}`).sort().join(',');
    if (want !== have) {
      violations.push({ kind: 'wrong-window', eventTime: ws, detail: `window ${windowKey}: ${got.result.items.length} items, the reference has ${ids.length}${diffIds(ids, got.result.items.map(([, , p, o]) => `${p}:${o}`))}` });
    }
  }
  for (const [windowKey, { result }] of results) {
    if (!reference.has(windowKey)) violations.push({ kind: 'spurious-window', eventTime: result.ws, detail: `window ${windowKey} (${result.count} items) is not in the reference` });
  }

  // 8. Items the first stage wrote again to the repartition topic (dropped downstream).
  let repartitionRewrites = 0;
  if (data.repartition) {
    const seen = new Set<string>();
    for (const r of data.repartition) {
      const offset = header(r, RepartitionHeaders.offset);
      if (offset === undefined) continue; // a watermark control record
      const identity = `${header(r, RepartitionHeaders.upstream)}|${offset}|${header(r, RepartitionHeaders.seq)}`;
      if (seen.has(identity)) {
        repartitionRewrites++;
        duplicates.push({ topic: 'repartition', eventTime: r.timestamp, at: r.timestamp });
      } else {
        seen.add(identity);
      }
    }
  }

  return {
    summary: {
      inputRecords: inputs.size,
      events,
      poison,
      badLines,
      skewed,
      counted,
      late: lateIds.size,
      deadLettered: dlqCount,
      lost: lostInputs.length,
      keys: seqsByKey.size,
      keysWithGaps,
      windows: results.size,
      referenceWindows: reference.size,
      countResults: data.counts.length,
      duplicateResults: duplicates.filter((d) => d.topic === 'counts').length,
      duplicateLate: duplicates.filter((d) => d.topic === 'late').length,
      duplicateDeadLetters: duplicates.filter((d) => d.topic === 'dlq').length,
      repartitionRewrites,
      orderViolations,
      violations: violations.length,
    },
    violations,
    duplicates,
    notices,
    lostInputs,
  };
}

function summarise(result: CountResult): string {
  return `{count ${result.count}, first ${JSON.stringify(result.items[0] ?? null)}, last ${JSON.stringify(result.items[result.items.length - 1] ?? null)}}`;
}

function diffIds(want: readonly string[], have: readonly string[]): string {
  const w = new Set(want);
  const h = new Set(have);
  const missing = want.filter((id) => !h.has(id));
  const extra = have.filter((id) => !w.has(id));
  const show = (ids: string[]): string => ids.slice(0, 5).join(' ') + (ids.length > 5 ? ` (+${ids.length - 5})` : '');
  return `${missing.length ? `; missing ${show(missing)}` : ''}${extra.length ? `; extra ${show(extra)}` : ''}`;
}
