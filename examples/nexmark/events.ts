import { z } from 'zod';

/**
 * The nexmark input, exactly as the spec defines a valid event: a JSON object whose `type` is
 * `person`, `auction` or `bid`, with that type's fields, each of its JSON type (integers safe,
 * so `1.0` is 1; strings strings; `extra`, optional on any event, a string when present, never
 * `null`); an auction's `expires` after its `dateTime`. Fields not listed are ignored (dropped).
 */
const extra = z.string().optional();

export const personSchema = z.object({
  type: z.literal('person'),
  id: z.number().int(),
  name: z.string(),
  emailAddress: z.string(),
  creditCard: z.string(),
  city: z.string(),
  state: z.string(),
  dateTime: z.number().int(),
  extra,
});

export const auctionSchema = z.object({
  type: z.literal('auction'),
  id: z.number().int(),
  itemName: z.string(),
  description: z.string(),
  initialBid: z.number().int(),
  reserve: z.number().int(),
  dateTime: z.number().int(),
  expires: z.number().int(),
  seller: z.number().int(),
  category: z.number().int(),
  extra,
});

export const bidSchema = z.object({
  type: z.literal('bid'),
  auction: z.number().int(),
  bidder: z.number().int(),
  price: z.number().int(),
  channel: z.string(),
  url: z.string(),
  dateTime: z.number().int(),
  extra,
});

/** Any valid event (the three input topics share it: a line's validity does not depend on where it was produced). */
export const nexmarkEventSchema = z
  .discriminatedUnion('type', [personSchema, auctionSchema, bidSchema])
  .refine((e) => e.type !== 'auction' || e.expires > e.dateTime, { message: "an auction's expires must be greater than its dateTime", path: ['expires'] });

export type Person = z.infer<typeof personSchema>;
export type Auction = z.infer<typeof auctionSchema>;
export type Bid = z.infer<typeof bidSchema>;
export type NexmarkEvent = Person | Auction | Bid;

/** The input topics' base names, by event type: persons keyed by `id`, auctions by `id`, bids by `auction`. */
export const NEXMARK_TOPICS = { person: 'persons', auction: 'auctions', bid: 'bids' } as const;

/**
 * The key of an event on its input topic (`id`, `id`, `auction`), as a string: undefined when the
 * field is not a safe integer (the line is invalid anyway, and produced without a key).
 */
export function keyOfEvent(record: Record<string, unknown>): string | undefined {
  const field = record.type === 'bid' ? record.auction : record.id;
  return typeof field === 'number' && Number.isSafeInteger(field) ? String(field) : undefined;
}

/** Events on their way between stages: the event and its input line (what `late.jsonl` shows). */
export interface LinedEvent<E extends NexmarkEvent = NexmarkEvent> {
  readonly line: number;
  readonly event: E;
}
