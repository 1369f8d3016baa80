import { createActor, type Actor } from 'xstate';
import { cardTestingMachine, type CardTestingAlert, type CardTestingContext, type SmallTransaction } from './card-testing-machine.js';
import type { FraudConfig } from './fraud-config.js';
import { compareTransactions, type Transaction } from './transaction.js';

/**
 * The four rules, in the order they are checked for a transaction.
 *
 * @example
 * for (const rule of FRAUD_RULES) console.log(rule); // velocity, amount-spike, ...
 */
export const FRAUD_RULES = ['velocity', 'amount-spike', 'impossible-travel', 'card-testing'] as const;

/**
 * One of {@link FRAUD_RULES}.
 *
 * @example
 * const rule: FraudRule = 'card-testing';
 */
export type FraudRule = (typeof FRAUD_RULES)[number];

/**
 * One line of the `fraud-alerts` output: a rule fired for a transaction (`ts` is that
 * transaction's).
 *
 * @example
 * const alert: FraudAlert = { rule: 'velocity', cardId: 'card-7', txId: 'tx-91', ts: 1_700_000_030_000 };
 */
export interface FraudAlert {
  readonly rule: FraudRule;
  readonly cardId: string;
  readonly txId: string;
  readonly ts: number;
}

/**
 * Keeps an input offset from being committed; returns the release.
 *
 * @example
 * const hold: HoldOffset = (offset) => context.holds.hold(offset);
 */
export type HoldOffset = (offset: number) => () => void;

/**
 * How much history cards keep: the largest count, history length and windows of every
 * configuration in force so far (on a partition). Lowering a threshold therefore never drops
 * history that a transaction read before the change still needs; raising one applies fully to
 * history gathered after the raise.
 *
 * @example
 * const retention = new Retention(DEFAULT_FRAUD_CONFIG);
 * retention.include(newConfig); // after a broadcast
 */
export class Retention {
  /** Most recent timestamps kept for `velocity`: the largest `count` − 1. */
  velocityTimestamps = 0;
  /** Most recent amounts kept for `amount-spike`. */
  amounts = 1;
  /** Small transactions are kept this long for `card-testing`. */
  cardTestingMs = 0;
  /** After this long without a transaction, everything but the amounts is dropped. */
  idleMs = 0;

  constructor(...configs: FraudConfig[]) {
    for (const config of configs) this.include(config);
  }

  include(config: FraudConfig): void {
    this.velocityTimestamps = Math.max(this.velocityTimestamps, config.velocity.count - 1);
    this.amounts = Math.max(this.amounts, config.amountSpike.history);
    this.cardTestingMs = Math.max(this.cardTestingMs, config.cardTesting.windowMs);
    this.idleMs = Math.max(this.idleMs, config.velocity.windowMs, config.impossibleTravel.windowMs, config.cardTesting.windowMs);
  }
}

/** A transaction some rule state still needs; its offset is held until none does. */
class Retained {
  private refs = 0;

  constructor(private readonly release: (() => void) | undefined) {}

  ref(): this {
    this.refs++;
    return this;
  }

  unref(): void {
    if (--this.refs === 0) this.release?.();
  }

  /** Called once the transaction has been taken in: releases it at once if nothing kept it. */
  settle(): void {
    if (this.refs === 0) this.release?.();
  }
}

/**
 * Options of {@link CardRules}.
 *
 * @example
 * const card = new CardRules('card-1', { hold: (offset) => context.holds.hold(offset) });
 */
export interface CardRulesOptions {
  /** Holds the offset of each transaction the card's state keeps. Default: none (outside a partition runtime). */
  readonly hold?: HoldOffset;
  /** Every card-testing actor this card starts is added here while it runs (so a torn-down pipeline can stop them all). */
  readonly actors?: Set<Actor<typeof cardTestingMachine>>;
}

/**
 * The four fraud rules for one card, evaluated incrementally: feed the card's transactions in
 * event-time order (ties by `txId`) to {@link evaluate}; each returns the alerts of that
 * transaction, exactly as the spec defines them.
 *
 * The state is bounded whatever the card does: the last `count − 1` timestamps (velocity), the
 * last `history` amounts and a count (amount-spike), the previous transaction's country and time
 * (impossible-travel), and a card-testing xstate actor remembering at most two small
 * transactions, started at the card's first small transaction and stopped when none is within
 * reach. {@link rest} drops everything but the amounts once the card has been idle longer than
 * the longest window; {@link close} drops the rest.
 *
 * @example
 * const card = new CardRules('card-1');
 * const retention = new Retention(DEFAULT_FRAUD_CONFIG);
 * for (const tx of transactionsInOrder) alerts.push(...card.evaluate(tx, DEFAULT_FRAUD_CONFIG, retention));
 * card.close();
 */
/**
 * A {@link CardRules} as plain data: what a store keeps of a card (its changelog record), and
 * {@link CardRules.fromSnapshot} turns back into the same rules, card-testing actor included.
 */
export interface CardSnapshot {
  readonly earlier: number;
  readonly amounts: readonly number[];
  readonly times: readonly number[];
  readonly previous: { readonly ts: number; readonly country: string } | undefined;
  readonly last: number;
  /** The card-testing actor's persisted snapshot (xstate `getPersistedSnapshot()`), without tokens. */
  readonly machine: unknown;
}

export class CardRules {
  private earlier = 0;
  // Amount-spike: the most recent amounts, oldest first.
  private readonly amounts: number[] = [];
  private readonly amountsRetained: Retained[] = [];
  // Velocity: the most recent timestamps, oldest first.
  private readonly times: number[] = [];
  private readonly timesRetained: Retained[] = [];
  // Impossible-travel: the previous transaction.
  private previous: { ts: number; country: string; retained: Retained } | undefined;
  private actor: Actor<typeof cardTestingMachine> | undefined;
  private cardTest: CardTestingAlert | undefined;
  private last = -Infinity;

  constructor(
    readonly cardId: string,
    private readonly options: CardRulesOptions = {},
  ) {}

  /**
   * The card's state as plain data (see {@link CardSnapshot}). Only for rules without holds:
   * what a hold protects is not in a snapshot.
   */
  snapshot(): CardSnapshot {
    let machine: unknown;
    if (this.actor) {
      const persisted = this.actor.getPersistedSnapshot() as unknown as { context: CardTestingContext };
      const strip = (small: SmallTransaction | undefined) => (small === undefined ? undefined : { txId: small.txId, ts: small.ts, merchant: small.merchant });
      machine = { ...persisted, context: { latest: strip(persisted.context.latest), other: strip(persisted.context.other) } };
    }
    return {
      earlier: this.earlier,
      amounts: [...this.amounts],
      times: [...this.times],
      previous: this.previous === undefined ? undefined : { ts: this.previous.ts, country: this.previous.country },
      last: this.last,
      machine,
    };
  }

  /** The rules of `cardId` in the state of `snapshot` (from {@link snapshot}); the card-testing actor runs again. */
  static fromSnapshot(cardId: string, snapshot: CardSnapshot, options: Omit<CardRulesOptions, 'hold'> = {}): CardRules {
    const card = new CardRules(cardId, options);
    card.earlier = snapshot.earlier;
    for (const amount of snapshot.amounts) {
      card.amounts.push(amount);
      card.amountsRetained.push(new Retained(undefined).ref());
    }
    for (const time of snapshot.times) {
      card.times.push(time);
      card.timesRetained.push(new Retained(undefined).ref());
    }
    if (snapshot.previous) card.previous = { ...snapshot.previous, retained: new Retained(undefined).ref() };
    card.last = snapshot.last;
    if (snapshot.machine !== undefined) {
      const machine = snapshot.machine as { context: CardTestingContext };
      const token = (small: SmallTransaction | undefined) => (small === undefined ? undefined : { ...small, token: new Retained(undefined).ref() });
      card.startActor({ ...machine, context: { latest: token(machine.context.latest), other: token(machine.context.other) } });
    }
    return card;
  }

  /** The timestamp of the last transaction evaluated. */
  get lastTs(): number {
    return this.last;
  }

  /** Whether the card-testing actor is running (the card has a small transaction within reach). */
  get watching(): boolean {
    return this.actor !== undefined;
  }

  /**
   * The alerts of `tx` (the card's next transaction in event-time order) under `config`, in
   * {@link FRAUD_RULES} order, appended to `out`; then `tx` becomes history. `offset` is held
   * while the state keeps `tx`.
   */
  evaluate(tx: Transaction, config: FraudConfig, retention: Retention, offset?: number, out: FraudAlert[] = []): FraudAlert[] {
    const { ts, amount } = tx;
    const retained = new Retained(offset !== undefined && this.options.hold ? this.options.hold(offset) : undefined);

    // velocity: tx itself is within (ts − windowMs, ts] (windowMs > 0), and so is the
    // (count − 1)-th most recent earlier transaction (earlier ones have timestamps <= ts).
    const needed = config.velocity.count - 1;
    const from = ts - config.velocity.windowMs;
    if (from < ts && (needed === 0 || (this.times.length >= needed && this.times[this.times.length - needed] > from))) {
      out.push(this.alert('velocity', tx));
    }

    // amount-spike: amount × n > multiplier × sum over the n most recent earlier amounts.
    const spike = config.amountSpike;
    const n = Math.min(this.amounts.length, spike.history);
    if (this.earlier >= spike.minEarlier && n > 0 && exceedsMean(amount, this.amounts, n, spike.multiplier)) {
      out.push(this.alert('amount-spike', tx));
    }

    // impossible-travel: the previous transaction was elsewhere, at most windowMs earlier.
    const previous = this.previous;
    if (previous !== undefined && previous.country !== tx.country && ts - previous.ts <= config.impossibleTravel.windowMs) {
      out.push(this.alert('impossible-travel', tx));
    }

    // card-testing: the card's statechart, sent only what can matter.
    const testing = config.cardTesting;
    if (amount <= testing.smallMax || (this.actor !== undefined && amount >= testing.largeMin)) {
      if (this.testCard(tx, config, retention, retained)) out.push(this.alert('card-testing', tx));
    }

    // tx becomes history.
    this.earlier++;
    this.last = ts;
    push(this.amounts, this.amountsRetained, amount, retained, retention.amounts);
    push(this.times, this.timesRetained, ts, retained, retention.velocityTimestamps);
    previous?.retained.unref();
    this.previous = { ts, country: tx.country, retained: retained.ref() };
    retained.settle();
    return out;
  }

  /**
   * The card has been idle longer than every window: drops the velocity timestamps, the
   * previous transaction and the card-testing actor (they can no longer make a rule fire).
   * Keeps the amounts: amount-spike has no time limit.
   */
  rest(): void {
    while (this.times.length > 0) {
      this.times.shift();
      this.timesRetained.shift()!.unref();
    }
    this.previous?.retained.unref();
    this.previous = undefined;
    if (this.actor) this.stopActor(this.actor.getSnapshot().context);
  }

  /** Forgets the card entirely (its amounts too) and releases every hold. */
  close(): void {
    this.rest();
    while (this.amounts.length > 0) {
      this.amounts.shift();
      this.amountsRetained.shift()!.unref();
    }
  }

  private alert(rule: FraudRule, tx: Transaction): FraudAlert {
    return { rule, cardId: this.cardId, txId: tx.txId, ts: tx.ts };
  }

  private testCard(tx: Transaction, config: FraudConfig, retention: Retention, retained: Retained): boolean {
    const actor = this.actor ?? this.startActor(undefined);
    const before = actor.getSnapshot().context;
    this.cardTest = undefined;
    actor.send({
      type: 'card.tx',
      txId: tx.txId,
      ts: tx.ts,
      amount: tx.amount,
      merchant: tx.merchant,
      token: retained,
      largeMin: config.cardTesting.largeMin,
      smallMax: config.cardTesting.smallMax,
      windowMs: config.cardTesting.windowMs,
      retainMs: Math.max(retention.cardTestingMs, config.cardTesting.windowMs),
    });
    const snapshot = actor.getSnapshot();
    retainDifference(before, snapshot.context);
    if (snapshot.matches('idle')) this.stopActor(snapshot.context);
    // Set by the actor's alert handler during send() (TypeScript cannot see that).
    const fired = (this.cardTest as CardTestingAlert | undefined)?.txId === tx.txId;
    this.cardTest = undefined;
    return fired;
  }

  private startActor(snapshot: unknown): Actor<typeof cardTestingMachine> {
    const actor = createActor(cardTestingMachine, snapshot === undefined ? undefined : { snapshot: snapshot as never });
    actor.on('card-testing.alert', (alert) => {
      this.cardTest = alert;
    });
    actor.start();
    this.actor = actor;
    this.options.actors?.add(actor);
    return actor;
  }

  private stopActor(context: CardTestingContext): void {
    retainDifference(context, { latest: undefined, other: undefined });
    this.actor?.stop();
    if (this.actor) this.options.actors?.delete(this.actor);
    this.actor = undefined;
  }
}

/** Appends `value` to a bounded history, dropping (and unreferencing) the oldest beyond `capacity`. */
function push(values: number[], retained: Retained[], value: number, tx: Retained, capacity: number): void {
  if (capacity <= 0) return;
  values.push(value);
  retained.push(tx.ref());
  while (values.length > capacity) {
    values.shift();
    retained.shift()!.unref();
  }
}

/** Moves the references of the small transactions the machine forgot to those it now remembers. */
function retainDifference(before: CardTestingContext, after: CardTestingContext): void {
  for (const small of [before.latest, before.other]) {
    if (small !== undefined && small !== after.latest && small !== after.other) (small.token as Retained).unref();
  }
  for (const small of [after.latest, after.other]) {
    if (small !== undefined && small !== before.latest && small !== before.other) (small.token as Retained).ref();
  }
}

/**
 * `amount × n > multiplier × (sum of the last n amounts)`, exactly: in doubles while every
 * intermediate is a safe integer, in BigInt otherwise.
 *
 * @example
 * exceedsMean(5_000, [1_000, 1_000, 1_000], 3, 5); // false: 15,000 is not more than 15,000
 * exceedsMean(5_001, [1_000, 1_000, 1_000], 3, 5); // true
 */
export function exceedsMean(amount: number, amounts: readonly number[], n: number, multiplier: number): boolean {
  let sum = 0;
  let exact = true;
  for (let i = amounts.length - n; i < amounts.length; i++) {
    sum += amounts[i];
    if (!Number.isSafeInteger(sum)) exact = false;
  }
  if (exact) {
    const lhs = amount * n;
    const rhs = multiplier * sum;
    if (Number.isSafeInteger(lhs) && Number.isSafeInteger(rhs)) return lhs > rhs;
  }
  let big = 0n;
  for (let i = amounts.length - n; i < amounts.length; i++) big += BigInt(amounts[i]);
  return BigInt(amount) * BigInt(n) > BigInt(multiplier) * big;
}

/**
 * The alerts of one card's transactions, as the pipeline computes them: sorts a copy into
 * event-time order (ties by `txId`) and evaluates each with its configuration (`config`, or
 * `config(tx)` per transaction). A pure function: the reference for tests and a way to try
 * thresholds on a file.
 *
 * @example
 * evaluateCard(cardTransactions, DEFAULT_FRAUD_CONFIG); // [{ rule: 'velocity', ... }, ...]
 */
export function evaluateCard(
  transactions: readonly Transaction[],
  config: FraudConfig | ((tx: Transaction) => FraudConfig),
): FraudAlert[] {
  const ordered = [...transactions].sort(compareTransactions);
  const configOf = typeof config === 'function' ? config : () => config;
  const retention = new Retention(...ordered.map(configOf));
  const alerts: FraudAlert[] = [];
  const cards = new Map<string, CardRules>();
  for (const tx of ordered) {
    let card = cards.get(tx.cardId);
    if (card === undefined) {
      card = new CardRules(tx.cardId);
      cards.set(tx.cardId, card);
    }
    card.evaluate(tx, configOf(tx), retention, undefined, alerts);
  }
  for (const card of cards.values()) card.close();
  return alerts;
}
