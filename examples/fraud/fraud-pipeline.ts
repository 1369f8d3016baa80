import { Observable, map, type OperatorFunction } from 'rxjs';
import type { Actor } from 'xstate';
import { ConfigError, keyedProcess, orderedByEventTime, type Serde, type PipelineContext, type StreamRecord } from 'tributary';
import { CardRules, Retention, type CardSnapshot, type FraudAlert } from './card-rules.js';
import type { cardTestingMachine } from './card-testing-machine.js';
import type { FraudConfig } from './fraud-config.js';
import { fixedFraudConfig, type AppliedFraudConfig, type FraudConfigSource } from './config-source.js';
import { compareTxIds, type Transaction } from './transaction.js';

/**
 * A partition now applies a configuration.
 *
 * @example
 * createFraudApp({ onConfigApplied: (e: FraudConfigApplied) => console.log(e.partition, e.revision) });
 */
export interface FraudConfigApplied extends AppliedFraudConfig {
  readonly topic: string;
  readonly partition: number;
}

/**
 * Options of {@link detectFraud}.
 *
 * @example
 * const options: DetectFraudOptions = { context, config: DEFAULT_FRAUD_CONFIG, historyTtlMs: 30 * 86_400_000 };
 */
export interface DetectFraudOptions {
  /** The partition's context: its clock, offset holds, late output and logger. */
  readonly context: PipelineContext;
  /** The thresholds: fixed, or a source of changing ones (a NATS broadcast). */
  readonly config: FraudConfig | FraudConfigSource;
  /**
   * A card with no transaction for this long (event time) is forgotten entirely, its
   * amount-spike history included. Default `Infinity`: exact as the spec says. The cards live
   * in a store (logged, restored), so this bounds the store's size, not the commit: the
   * committed offset follows processing whatever the cards' age.
   */
  readonly historyTtlMs?: number;
  /** Called (synchronously) each time this partition starts applying a configuration. */
  readonly onConfigApplied?: (event: FraudConfigApplied) => void;
}

/** A transaction on its way through the partition, with the thresholds it was read under. */
interface CardTransaction {
  readonly key: string;
  readonly timestamp: number;
  readonly offset: number;
  readonly tx: Transaction;
  readonly config: FraudConfig;
  /** As read: what goes to the late output. */
  readonly record: StreamRecord<unknown, Transaction>;
}

interface CardState {
  readonly rules: CardRules;
  /** When the card will have been idle longer than every window. */
  idleAt: number | undefined;
  /** When the card is forgotten (`Number.MAX_VALUE`: when the input ends). */
  expiresAt: number | undefined;
}

const byTxId = (a: CardTransaction, b: CardTransaction): number => compareTxIds(a.tx.txId, b.tx.txId);

/**
 * The fraud rules over one partition's transactions (keyed by card):
 *
 * 1. each transaction is tagged with the thresholds in force **when the partition reads it**;
 * 2. `orderedByEventTime` puts each card's transactions in event-time order, ties by `txId`,
 *    whatever the arrival disorder within the partition's out-of-orderness bound; a
 *    transaction behind the watermark when read is late: its record goes, as read, to the
 *    partition's late output and takes no part in any rule;
 * 3. `keyedProcess` runs each card's {@link CardRules} (the card-testing rule is an xstate
 *    machine per card) and emits a {@link FraudAlert} per rule that fires.
 *
 * **Configuration changes.** A new configuration applies to the transactions the partition
 * reads after it arrived, in processing order (a value arriving while a fetched batch is being
 * processed applies from the next batch). A transaction read before still waiting for its turn
 * in the event-time order keeps the thresholds it was read under. History is kept for the
 * largest thresholds in force so far (see {@link Retention}). A restart replays with the
 * configuration in force at the restart.
 *
 * **State and commits.** A card keeps at most `count − 1` timestamps, `history` amounts, its
 * previous transaction and two small ones, in the `cards` store (a {@link CardSnapshot} per
 * card in its changelog, the card-testing actor's persisted xstate snapshot included), so a
 * restart or a new owner restores the cards as they were at the committed offset instead of
 * replaying their history. After the longest window without a transaction, all but the
 * amounts is dropped and the card-testing actor stopped; after `historyTtlMs` (default
 * never), the card is forgotten. Unsubscribing stops every actor.
 *
 * @example
 * pipeline: (records, context) => ({
 *   'fraud-alerts': records.pipe(detectFraud({ context, config: DEFAULT_FRAUD_CONFIG })),
 * }),
 */
export function detectFraud(options: DetectFraudOptions): OperatorFunction<StreamRecord<unknown, Transaction>, FraudAlert> {
  const { context } = options;
  const source = 'configs' in options.config ? options.config : fixedFraudConfig(options.config);
  const ttl = options.historyTtlMs ?? Infinity;
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl <= 0) {
    throw new ConfigError('fraud.historyTtlMs', `must be a positive number of milliseconds (or Infinity), got ${String(ttl)}`);
  }

  return (records) =>
    new Observable<FraudAlert>((subscriber) => {
      const retention = new Retention();
      let current: FraudConfig | undefined;
      const configs = source.configs.subscribe({
        next: (applied) => {
          current = applied.config;
          retention.include(applied.config);
          context.logger.info({ revision: applied.revision, origin: applied.origin }, 'fraud thresholds applied');
          options.onConfigApplied?.({ ...applied, topic: context.topic, partition: context.partition });
        },
        error: (err: unknown) => subscriber.error(err),
      });
      if (current === undefined) {
        configs.unsubscribe();
        if (!subscriber.closed) subscriber.error(new ConfigError('fraud.config', 'the configuration source gave no configuration on subscription'));
        return undefined;
      }

      const actors = new Set<Actor<typeof cardTestingMachine>>();
      const found: FraudAlert[] = [];
      // A card in the changelog: its rules as plain data, and its two timers' times.
      const cardSerde: Serde<CardState> = {
        name: 'fraud-card',
        serialize: (card) => JSON.stringify({ rules: card.rules.snapshot(), cardId: card.rules.cardId, idleAt: card.idleAt ?? null, expiresAt: card.expiresAt ?? null }),
        deserialize: (bytes) => {
          const raw = JSON.parse((bytes ?? Buffer.alloc(0)).toString()) as { rules: CardSnapshot; cardId: string; idleAt: number | null; expiresAt: number | null };
          return { rules: CardRules.fromSnapshot(raw.cardId, raw.rules, { actors }), idleAt: raw.idleAt ?? undefined, expiresAt: raw.expiresAt ?? undefined };
        },
      };
      const alerts = records
        .pipe(
          map((r): CardTransaction => ({ key: r.value.cardId, timestamp: r.value.ts, offset: r.offset, tx: r.value, config: current!, record: r })),
          orderedByEventTime<CardTransaction, string>({
            store: 'card-order',
            tieBreak: byTxId,
            late: (element, info) => context.late(element.record, info),
          }),
          keyedProcess<CardTransaction, CardState, FraudAlert, string>({
            store: 'cards',
            stateSerde: cardSerde,
            init: (cardId) => ({ rules: new CardRules(cardId, { actors }), idleAt: undefined, expiresAt: undefined }),
            onRecord: (ctx, element) => {
              const card = ctx.state;
              found.length = 0;
              card.rules.evaluate(element.tx, element.config, retention, element.offset, found);
              for (const alert of found) ctx.emit(alert);
              const ts = element.tx.ts;
              const idleAt = ts + retention.idleMs;
              const expiresAt = Number.isFinite(ttl) ? ts + ttl : Number.MAX_VALUE;
              card.idleAt = moveTimer(ctx, card.idleAt, idleAt, card.expiresAt);
              card.expiresAt = moveTimer(ctx, card.expiresAt, expiresAt, card.idleAt);
            },
            onTimer: (ctx, time) => {
              const card = ctx.state;
              if (time === card.idleAt) {
                card.rules.rest();
                card.idleAt = undefined;
              }
              if (time === card.expiresAt) {
                if (card.idleAt !== undefined) ctx.deleteTimer(card.idleAt);
                card.rules.close();
                ctx.clearState();
              }
            },
          }),
        )
        .subscribe(subscriber);

      return () => {
        alerts.unsubscribe();
        configs.unsubscribe();
        for (const actor of actors) actor.stop();
        actors.clear();
      };
    });
}

/** Moves a card's timer from `from` to `to` (one timer per time: `from` is kept when the other timer is there too). */
function moveTimer(
  ctx: { registerTimer(time: number): void; deleteTimer(time: number): void },
  from: number | undefined,
  to: number,
  other: number | undefined,
): number {
  if (from === to) return to;
  if (from !== undefined && from !== other) ctx.deleteTimer(from);
  ctx.registerTimer(to);
  return to;
}
