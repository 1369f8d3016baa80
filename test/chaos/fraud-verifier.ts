// The verifier of the fraud processor: its alerts against the fraud example's own reference
// (`evaluateCard`, a plain loop per card) over the transactions that were neither malformed nor
// late. Pure, like verifier.ts.
import { evaluateCard, FRAUD_RULES, type FraudAlert } from '../../examples/fraud/card-rules.js';
import { DEFAULT_FRAUD_CONFIG } from '../../examples/fraud/fraud-config.js';
import type { Transaction } from '../../examples/fraud/transaction.js';
import type { LogRecord } from '../../src/connectors/log.js';
import { DeadLetterHeaders } from '../../src/supervision/dead-letter.js';
import { FRAUD_FLUSH_PREFIX } from './fraud-input.js';
import type { LateTransaction } from './fraud-topology.js';
import type { Duplicate, Notice, Violation } from './verifier.js';

export interface FraudVerifyInput {
  readonly boundMs: number;
  readonly input: readonly LogRecord[];
  readonly alerts: readonly LogRecord[];
  readonly late: readonly LogRecord[];
  readonly dlq: readonly LogRecord[];
}

export interface FraudVerification {
  readonly summary: {
    readonly transactions: number;
    readonly malformed: number;
    readonly late: number;
    readonly deadLettered: number;
    readonly expectedAlerts: number;
    readonly alerts: number;
    readonly duplicateAlerts: number;
    readonly missingAlerts: number;
    readonly unexpectedAlerts: number;
    readonly orderViolations: number;
    readonly violations: number;
  };
  /** Violations and duplicates carry the transaction's event time (fraud event time). */
  readonly violations: readonly Violation[];
  readonly duplicates: readonly Duplicate[];
  readonly notices: readonly Notice[];
}

const text = (b: Buffer | null): string => (b === null ? '' : b.toString('utf8'));

/** Validity as the fraud spec words it, independently of the app's parser (as the example's tests judge it). */
function referenceParse(line: string): Transaction | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const forbidden = (v: unknown): boolean =>
    typeof v === 'object' &&
    v !== null &&
    (Object.prototype.hasOwnProperty.call(v, '__proto__') || Object.prototype.hasOwnProperty.call(v, 'constructor') || Object.values(v).some(forbidden));
  if (typeof value !== 'object' || value === null || Array.isArray(value) || forbidden(value)) return undefined;
  const r = value as Record<string, unknown>;
  for (const f of ['txId', 'cardId', 'merchant', 'country']) if (typeof r[f] !== 'string') return undefined;
  for (const f of ['amount', 'ts']) if (!Number.isSafeInteger(r[f])) return undefined;
  return r as unknown as Transaction;
}

const alertKey = (a: FraudAlert): string => `${a.rule}|${a.cardId}|${a.txId}|${a.ts}`;
const ruleIndex = (rule: string): number => (FRAUD_RULES as readonly string[]).indexOf(rule);
/** Output order of a card's alerts: event time, then txId, then rule order. */
const before = (a: FraudAlert, b: FraudAlert): boolean =>
  a.ts !== b.ts ? a.ts < b.ts : a.txId !== b.txId ? a.txId < b.txId : ruleIndex(a.rule) < ruleIndex(b.rule);

/**
 * Checks the fraud processor's outputs:
 *
 * - every input line is accounted for: a malformed one in the dead-letter topic, a valid one
 *   processed (its alerts, if any, present) or in the late output, never both;
 * - the alerts equal the reference over the valid transactions that were not late: none
 *   missing, none extra; a re-emitted alert is counted as a duplicate;
 * - a card's alerts are first emitted in order (event time, txId, rule);
 * - a transaction within the bound of its partition is never late.
 */
export function verifyFraud(data: FraudVerifyInput): FraudVerification {
  const violations: Violation[] = [];
  const notices: Notice[] = [];
  const duplicates: Duplicate[] = [];

  const deadLettered = new Map<string, string>();
  for (const r of data.dlq) {
    const id = `${String(r.headers[DeadLetterHeaders.partition])}:${String(r.headers[DeadLetterHeaders.offset])}`;
    if (deadLettered.has(id)) duplicates.push({ topic: 'dlq', eventTime: 0 });
    deadLettered.set(id, String(r.headers[DeadLetterHeaders.reason]));
  }
  const lateIds = new Set<string>();
  for (const r of data.late) {
    const late = JSON.parse(text(r.value)) as LateTransaction;
    const id = `${late.p}:${late.o}`;
    if (lateIds.has(id)) duplicates.push({ topic: 'late', eventTime: late.tx.ts });
    lateIds.add(id);
  }

  const valid: Transaction[] = [];
  let malformed = 0;
  let transactions = 0;
  const maxTs = new Map<number, number>();
  const sorted = [...data.input].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const r of sorted) {
    const id = `${r.partition}:${r.offset}`;
    const line = text(r.value);
    const tx = referenceParse(line);
    const reason = deadLettered.get(id);
    if (!tx) {
      malformed++;
      if (reason === undefined) {
        violations.push({ kind: 'lost', eventTime: 0, detail: `fraud: malformed line ${id} is in no dead-letter topic: ${line.slice(0, 120)}` });
      }
      continue;
    }
    if (tx.cardId.startsWith(FRAUD_FLUSH_PREFIX)) continue;
    transactions++;
    const maxBefore = maxTs.get(r.partition) ?? -Infinity;
    const mustBeOnTime = tx.ts >= maxBefore - data.boundMs;
    if (tx.ts > maxBefore) maxTs.set(r.partition, tx.ts);
    if (reason !== undefined) {
      violations.push({ kind: 'wrongly-dead-lettered', eventTime: tx.ts, detail: `fraud: valid transaction ${tx.txId} (${id}) dead-lettered: ${reason}` });
      continue;
    }
    if (lateIds.has(id)) {
      if (mustBeOnTime) {
        violations.push({ kind: 'on-time-reported-late', eventTime: tx.ts, detail: `fraud: transaction ${tx.txId} (${id}, ts ${tx.ts}) was within the bound of its partition but went to the late output` });
      }
      continue;
    }
    valid.push(tx);
  }

  // The reference: every card's valid, on-time transactions, evaluated in event-time order.
  const expected = new Map<string, FraudAlert>();
  for (const alert of evaluateCard(valid, DEFAULT_FRAUD_CONFIG)) expected.set(alertKey(alert), alert);
  const txTs = new Map(valid.map((tx) => [tx.txId, tx.ts]));

  const seen = new Set<string>();
  const lastByCard = new Map<string, FraudAlert>();
  let orderViolations = 0;
  let unexpected = 0;
  const sortedAlerts = [...data.alerts].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const r of sortedAlerts) {
    const alert = JSON.parse(text(r.value)) as FraudAlert;
    const key = alertKey(alert);
    if (seen.has(key)) {
      duplicates.push({ topic: 'alerts', eventTime: alert.ts, at: r.timestamp });
      continue;
    }
    seen.add(key);
    if (!expected.has(key)) {
      unexpected++;
      violations.push({ kind: 'wrong-alert', eventTime: alert.ts, at: r.timestamp, detail: `fraud: alert ${key} is not in the reference${txTs.has(alert.txId) ? '' : ' (no such valid, on-time transaction)'}` });
    }
    const last = lastByCard.get(alert.cardId);
    if (last && before(alert, last)) {
      orderViolations++;
      violations.push({ kind: 'order', eventTime: alert.ts, at: r.timestamp, detail: `fraud: alert ${key} first emitted after ${alertKey(last)} of the same card` });
    }
    if (!last || before(last, alert)) lastByCard.set(alert.cardId, alert);
  }
  let missing = 0;
  for (const [key, alert] of expected) {
    if (seen.has(key)) continue;
    missing++;
    violations.push({ kind: 'lost', eventTime: alert.ts, detail: `fraud: expected alert ${key} was never emitted` });
  }

  return {
    summary: {
      transactions,
      malformed,
      late: lateIds.size,
      deadLettered: deadLettered.size,
      expectedAlerts: expected.size,
      alerts: seen.size,
      duplicateAlerts: duplicates.filter((d) => d.topic === 'alerts').length,
      missingAlerts: missing,
      unexpectedAlerts: unexpected,
      orderViolations,
      violations: violations.length,
    },
    violations,
    duplicates,
    notices,
  };
}
