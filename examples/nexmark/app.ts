import { share } from 'rxjs';
import { defineProcessor, json, repartition, type ProcessorDefinition, type Sink } from 'tributary';
import { deadLetterSink } from '../shared/dead-letter-sink.js';
import type { ExampleApp, ExampleRunOptions } from '../shared/example-app.js';
import { keyOfEvent, NEXMARK_TOPICS, nexmarkEventSchema, type Auction, type Bid, type LinedEvent, type NexmarkEvent, type Person } from './events.js';
import { generateNexmarkLines } from './generate.js';
import { q3LocalItems } from './q3-local-items.js';
import { q5HotItems, type AuctionCount } from './q5-hot-items.js';
import { q7HighestBid, type PartialHighest } from './q7-highest-bid.js';
import { q8NewSellers } from './q8-new-sellers.js';
import { sellerTotals } from './seller-totals.js';
import { sourceStage } from './source-stage.js';
import { winningBids, type WinningBid } from './winning-bids.js';

/** The outputs, in the spec's order. */
export const NEXMARK_OUTPUTS = ['q1', 'q2', 'q3', 'q5', 'q7', 'q8', 'winning-bids', 'seller-totals'] as const;
export type NexmarkOutput = (typeof NEXMARK_OUTPUTS)[number];

/**
 * The nexmark processors: one processor reads the three input topics, and five repartition
 * stages do the rest (consumer groups `<prefix>nexmark`, `<prefix>nexmark-<stage>`):
 *
 * ```
 * persons (by id) ──┐ unique ids      ┌─► q1, q2 (bids, right away)
 * auctions (by id) ─┼─ source stage ──┼─► q5-by-window (counts per auction and hopping window) ── q5
 * bids (by auction)─┘                 ├─► q7-by-window (each partition's highest bids) ────────── q7
 *                                     ├─► by-person (persons by id, auctions by seller) ───────── q3, q8
 *                                     └─► auction-bids (auctions by id, bids by auction) ──────── winning-bids
 *                                                                         └─► by-seller ───────── seller-totals
 * ```
 *
 * Every stage behind the source stage reads all twelve (3 × partitions) input partitions'
 * watermarks and follows their minimum, so a join stage's watermark is the minimum of both its
 * inputs'. Duplicate ids go to the dead-letter topic from the source stage; late records to
 * `sinks.late` from the stage that finds them, marked with the output they missed.
 *
 * @example
 * createTributary({ processors: nexmarkProcessors({ prefix: '', inputTopic: 'bids', partitions: 4, outOfOrdernessMs: 5_000, sinks }) });
 */
export function nexmarkProcessors(options: ExampleRunOptions): ProcessorDefinition<string | null, unknown>[] {
  return nexmarkQueryProcessors(options, NEXMARK_OUTPUTS);
}

/** What each output needs the source stage to write, besides the dead letters. */
const STAGE_OF: Readonly<Record<NexmarkOutput, string>> = {
  q1: 'q1',
  q2: 'q2',
  q3: 'by-person',
  q5: 'q5-by-window',
  q7: 'q7-by-window',
  q8: 'by-person',
  'winning-bids': 'auction-bids',
  'seller-totals': 'auction-bids',
};

/**
 * The nexmark processors computing only `outputs` (each query alone, as `npm run bench --
 * nexmark` measures them): the source stage writes only to the stages those outputs need, and
 * only those stages run. `nexmarkProcessors` is all eight.
 *
 * @example
 * createTributary({ processors: nexmarkQueryProcessors(options, ['q7']) });
 */
export function nexmarkQueryProcessors(options: ExampleRunOptions, outputs: readonly NexmarkOutput[]): ProcessorDefinition<string | null, unknown>[] {
  const { prefix, partitions, outOfOrdernessMs } = options;
  const wanted = new Set<string>(outputs);
  const stages = new Set<string>(outputs.map((o) => STAGE_OF[o]));
  if (wanted.has('seller-totals')) stages.add('by-seller');
  const only = <S extends Record<string, unknown>>(all: S): Partial<S> =>
    Object.fromEntries(Object.entries(all).filter(([name]) => name === 'late' || name === 'duplicates' || stages.has(name) || wanted.has(name))) as Partial<S>;
  const sink = (name: string): Sink<unknown> => {
    const found = options.sinks[name];
    if (!found) throw new Error(`nexmark: no sink for '${name}' (have: ${Object.keys(options.sinks).join(', ')})`);
    return found;
  };
  const topicOf = (base: string): string => options.inputTopics?.[base] ?? `${prefix}${base}`;
  const topics = { persons: topicOf(NEXMARK_TOPICS.person), auctions: topicOf(NEXMARK_TOPICS.auction), bids: topicOf(NEXMARK_TOPICS.bid) };
  const late = sink('late');
  const id = `${prefix}nexmark`;
  const windowEnd = (item: { windowEnd: number }): number => item.windowEnd - 1;

  const nexmark = defineProcessor<string | null, NexmarkEvent>({
    id,
    source: { topics: [topics.persons, topics.auctions, topics.bids], value: json({ schema: nexmarkEventSchema }), timestamp: (r) => r.value.dateTime },
    eventTime: { outOfOrdernessMs },
    pipeline: (records, ctx) => only(sourceStage(records, ctx, topics)),
    sinks: only({
      q1: sink('q1'),
      q2: sink('q2'),
      late,
      duplicates: deadLetterSink(`${id}.dlq`),
      'q5-by-window': repartition<AuctionCount>({
        name: 'q5-by-window',
        key: (count) => String(count.windowStart),
        timestamp: windowEnd,
        partitions,
        pipeline: (counts) => ({ q5: counts.pipe(q5HotItems()) }),
        sinks: { q5: sink('q5'), late },
      }),
      'q7-by-window': repartition<PartialHighest>({
        name: 'q7-by-window',
        key: (partial) => String(partial.windowStart),
        timestamp: windowEnd,
        partitions,
        pipeline: (partials) => ({ q7: partials.pipe(q7HighestBid()) }),
        sinks: { q7: sink('q7'), late },
      }),
      'by-person': repartition<LinedEvent<Person | Auction>>({
        name: 'by-person',
        key: ({ event }) => String(event.type === 'person' ? event.id : event.seller),
        timestamp: ({ event }) => event.dateTime,
        partitions,
        pipeline: (records, ctx) => ({
          ...(wanted.has('q3') ? { q3: records.pipe(q3LocalItems()) } : {}),
          ...(wanted.has('q8') ? { q8: records.pipe(q8NewSellers(ctx)) } : {}),
        }),
        sinks: only({ q3: sink('q3'), q8: sink('q8'), late }),
      }),
      'auction-bids': repartition<LinedEvent<Auction | Bid>>({
        name: 'auction-bids',
        key: ({ event }) => String(event.type === 'auction' ? event.id : event.auction),
        timestamp: ({ event }) => event.dateTime,
        partitions,
        pipeline: (records, ctx) => {
          const wins = records.pipe(winningBids(ctx), share());
          return only({ 'winning-bids': wins, 'by-seller': wins });
        },
        sinks: only({
          'winning-bids': sink('winning-bids'),
          late,
          'by-seller': repartition<WinningBid>({
            name: 'by-seller',
            key: (win) => String(win.seller),
            timestamp: (win) => win.bidDateTime,
            partitions,
            pipeline: (wins) => ({ 'seller-totals': wins.pipe(sellerTotals()) }),
            sinks: { 'seller-totals': sink('seller-totals') },
          }),
        }),
      }),
    }),
  });
  return [nexmark as ProcessorDefinition<string | null, unknown>];
}

/**
 * nexmark: eight of the Nexmark benchmark's queries at once over one stream of persons,
 * auctions and bids (`{"type": "person" | "auction" | "bid", ...}`), on three input topics.
 *
 * @example
 * // npm run example -- nexmark --input events.jsonl --output-dir out
 * import { nexmark } from './nexmark/app.js';
 * await runExample({ app: nexmark, input: 'events.jsonl', outputDir: 'out' });
 */
export const nexmark: ExampleApp = {
  name: 'nexmark',
  // Lines that are not JSON objects (or have no known type) go to bids, the busiest topic, to be dead-lettered there.
  inputTopic: NEXMARK_TOPICS.bid,
  inputTopics: [NEXMARK_TOPICS.person, NEXMARK_TOPICS.auction, NEXMARK_TOPICS.bid],
  topicOf: (record) => (record.type === 'person' || record.type === 'auction' || record.type === 'bid' ? NEXMARK_TOPICS[record.type] : NEXMARK_TOPICS.bid),
  schema: nexmarkEventSchema,
  keyOf: (record) => keyOfEvent(record) ?? null,
  timestampOf: (record) => record.dateTime as number,
  outputs: NEXMARK_OUTPUTS,
  tables: { 'seller-totals': (row) => String((row as { seller: number }).seller) },
  recordsIn: 'valid',
  processors: nexmarkProcessors,
  generate: ({ count, seed }) => generateNexmarkLines({ events: count, seed }),
};

export default nexmark;
