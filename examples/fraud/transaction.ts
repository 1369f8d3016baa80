import { z } from 'zod';

/**
 * A card transaction, exactly as the fraud example's input defines a valid one: every field
 * required, strings are strings, `amount` (cents) and `ts` (epoch ms) are safe integers (a
 * float, a boolean, a numeric string or a number beyond 2^53 − 1 is invalid). Extra fields are
 * allowed and kept.
 *
 * @example
 * TransactionSchema.parse({ txId: 't1', cardId: 'c1', amount: 1250, merchant: 'm1', country: 'FR', ts: 1_700_000_000_000 });
 */
export const TransactionSchema = z.looseObject({
  txId: z.string(),
  cardId: z.string(),
  amount: z.number().int(),
  merchant: z.string(),
  country: z.string(),
  ts: z.number().int(),
});

/**
 * A valid transaction (extra fields, if any, are kept as read).
 *
 * @example
 * const tx: Transaction = { txId: 't1', cardId: 'c1', amount: 1250, merchant: 'm1', country: 'FR', ts: 0 };
 */
export type Transaction = z.infer<typeof TransactionSchema>;

/**
 * The order in which a card's transactions are evaluated: event time, ties by `txId` in plain
 * code-unit order.
 *
 * @example
 * [b, a].sort(compareTransactions);
 */
export function compareTransactions(a: Pick<Transaction, 'ts' | 'txId'>, b: Pick<Transaction, 'ts' | 'txId'>): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return compareTxIds(a.txId, b.txId);
}

/**
 * `txId` order: plain code-unit comparison (`a < b`), not locale-aware.
 *
 * @example
 * compareTxIds('tx-B', 'tx-a'); // -1: 'B' (66) < 'a' (97)
 */
export function compareTxIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
