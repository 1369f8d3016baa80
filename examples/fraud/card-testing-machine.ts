import { assign, emit, setup } from 'xstate';

/**
 * A small transaction the machine remembers. `token` is the caller's, carried along untouched.
 *
 * @example
 * const small: SmallTransaction = { txId: 't1', ts: 0, merchant: 'kiosk-1' };
 */
export interface SmallTransaction {
  readonly txId: string;
  readonly ts: number;
  readonly merchant: string;
  readonly token?: unknown;
}

/**
 * What the card-testing machine remembers of a card: its most recent small transaction, and the
 * most recent one at a *different* merchant than that. Nothing else can matter: for a large
 * transaction at merchant M, the latest earlier small transaction at a merchant other than M is
 * `latest` when `latest.merchant ≠ M`, else `other`; if that one is too old, every other one is
 * older still. So the answer is exact with two entries, whatever the number of merchants.
 *
 * @example
 * actor.getSnapshot().context.latest?.merchant; // the merchant of the card's latest small transaction
 */
export interface CardTestingContext {
  readonly latest: SmallTransaction | undefined;
  readonly other: SmallTransaction | undefined;
}

/**
 * One of the card's transactions, in the card's event-time order, with the thresholds it is
 * judged by. Only transactions that can matter are sent: small ones, and large ones while the
 * machine is armed.
 *
 * @example
 * actor.send({ type: 'card.tx', txId: 't1', ts: 0, amount: 150, merchant: 'kiosk', largeMin: 50_000, smallMax: 200, windowMs: 600_000, retainMs: 600_000 });
 */
export interface CardTransactionEvent {
  readonly type: 'card.tx';
  readonly txId: string;
  readonly ts: number;
  readonly amount: number;
  readonly merchant: string;
  /** Passed back in {@link SmallTransaction.token} while the transaction is remembered. */
  readonly token?: unknown;
  /** `cardTesting.largeMin` of this transaction's configuration. */
  readonly largeMin: number;
  /** `cardTesting.smallMax` of this transaction's configuration. */
  readonly smallMax: number;
  /** `cardTesting.windowMs` of this transaction's configuration. */
  readonly windowMs: number;
  /**
   * Small transactions older than `ts − retainMs` are forgotten. At least `windowMs`; larger
   * when an earlier configuration had a longer window, so that lowering it never loses history
   * a transaction read before the change still needs.
   */
  readonly retainMs: number;
}

/**
 * Emitted when a transaction is a card test.
 *
 * @example
 * actor.on('card-testing.alert', (alert: CardTestingAlert) => console.log(alert.txId));
 */
export interface CardTestingAlert {
  readonly type: 'card-testing.alert';
  readonly txId: string;
  readonly ts: number;
}

const isSmall = (e: CardTransactionEvent): boolean => e.amount <= e.smallMax;
const isLarge = (e: CardTransactionEvent): boolean => e.amount >= e.largeMin;

/** The remembered small transactions still within `retainMs` of the event. */
function retained(context: CardTestingContext, e: CardTransactionEvent): CardTestingContext {
  const horizon = e.ts - e.retainMs;
  const latest = context.latest !== undefined && context.latest.ts >= horizon ? context.latest : undefined;
  // `other` is never newer than `latest`: when `latest` is too old, so is `other`.
  const other = latest !== undefined && context.other !== undefined && context.other.ts >= horizon ? context.other : undefined;
  return latest === context.latest && other === context.other ? context : { latest, other };
}

/** The latest earlier small transaction at a merchant other than the event's, if within its window. */
function testedBy(context: CardTestingContext, e: CardTransactionEvent): SmallTransaction | undefined {
  const { latest, other } = context;
  const candidate = latest !== undefined && latest.merchant !== e.merchant ? latest : other;
  return candidate !== undefined && e.ts - candidate.ts <= e.windowMs ? candidate : undefined;
}

/** Forgets what is too old, then remembers the event if it is small. */
function remember(context: CardTestingContext, e: CardTransactionEvent): CardTestingContext {
  const kept = retained(context, e);
  if (!isSmall(e)) return kept;
  const small: SmallTransaction = { txId: e.txId, ts: e.ts, merchant: e.merchant, token: e.token };
  if (kept.latest === undefined) return { latest: small, other: undefined };
  if (kept.latest.merchant === e.merchant) return { latest: small, other: kept.other };
  return { latest: small, other: kept.latest };
}

/**
 * The `card-testing` rule of one card as a statechart: the complex-event-processing example.
 *
 * ```
 * idle ──small tx──► watching.armed ──large tx, an earlier small one at another merchant
 *  ▲                   │    ▲            within the window──► watching.fired (emits the alert)
 *  └──every remembered small tx too old──┘    └──────────── any other tx ◄────┘
 * ```
 *
 * - `idle`: no small transaction within reach. The runtime keeps no actor for an idle card:
 *   one is created at the card's first small transaction and stopped when it returns here.
 * - `watching.armed`: small transactions remembered (see {@link CardTestingContext}).
 * - `watching.fired`: as armed; the last transaction was a card test and
 *   `card-testing.alert` was emitted for it.
 *
 * A transaction is first judged (against *earlier* small transactions only), then remembered
 * if it is small itself. The thresholds come with each event, so a configuration change
 * applies from the next transaction on.
 *
 * @example
 * const actor = createActor(cardTestingMachine).start();
 * actor.on('card-testing.alert', (alert) => console.log('card test', alert.txId));
 * const limits = { largeMin: 50_000, smallMax: 200, windowMs: 600_000, retainMs: 600_000 };
 * actor.send({ type: 'card.tx', txId: 't1', ts: 0, amount: 150, merchant: 'kiosk', ...limits });
 * actor.send({ type: 'card.tx', txId: 't2', ts: 60_000, amount: 90_000, merchant: 'jeweller', ...limits }); // card test t2
 */
export const cardTestingMachine = setup({
  types: {
    context: {} as CardTestingContext,
    events: {} as CardTransactionEvent,
    emitted: {} as CardTestingAlert,
  },
  guards: {
    isSmall: ({ event }) => isSmall(event),
    isCardTest: ({ context, event }) => isLarge(event) && testedBy(retained(context, event), event) !== undefined,
    keepsSmallTransactions: ({ context, event }) => isSmall(event) || retained(context, event).latest !== undefined,
  },
  actions: {
    remember: assign(({ context, event }) => remember(context, event)),
    alert: emit(({ event }) => ({ type: 'card-testing.alert' as const, txId: event.txId, ts: event.ts })),
  },
}).createMachine({
  id: 'card-testing',
  initial: 'idle',
  context: { latest: undefined, other: undefined },
  states: {
    idle: {
      on: { 'card.tx': { guard: 'isSmall', target: 'watching.armed', actions: 'remember' } },
    },
    watching: {
      initial: 'armed',
      on: {
        'card.tx': [
          { guard: 'isCardTest', target: '.fired', actions: ['alert', 'remember'] },
          { guard: 'keepsSmallTransactions', target: '.armed', actions: 'remember' },
          { target: 'idle', actions: 'remember' },
        ],
      },
      states: {
        armed: {},
        fired: {},
      },
    },
  },
});
