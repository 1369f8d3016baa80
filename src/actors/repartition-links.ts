import type { LogRecord } from '../connectors/log.js';
import { RepartitionHeaders, type RepartitionEnvelope } from '../processor/repartition.js';
import type { StreamRecord } from '../streams/stream-record.js';
import type { PartitionTime } from './partition-time.js';
import type { Turn } from './turn.js';

/**
 * A partition's side of a repartition, upstream: what it writes to each repartition topic.
 * Each item is identified by the record that caused it (`upstream`, offset, sequence number), so
 * a downstream stage drops it when a replay writes it again; the partition's watermark follows
 * the items as a control record wherever it moved.
 */
export class RepartitionOutput {
  private seqOffset = -1;
  private seq = 0;
  private readonly forwarded = new Map<string, number>();

  constructor(
    private readonly sinks: ReadonlySet<string>,
    /** This partition, `topic:partition`. */
    private readonly upstream: string,
  ) {}

  /** Whether `sink` writes to a repartition topic. */
  has(sink: string): boolean {
    // Called for every result: most processors have no repartition sink at all.
    return this.sinks.size !== 0 && this.sinks.has(sink);
  }

  /** The envelope of `item`, caused by the record at `offset`, emitted at `watermark`. */
  data(item: unknown, offset: number, watermark: number): RepartitionEnvelope<unknown> {
    if (offset !== this.seqOffset) {
      this.seqOffset = offset;
      this.seq = 0;
    }
    return { kind: 'data', item, upstream: this.upstream, offset, seq: this.seq++, watermark };
  }

  /** Appends the partition's `watermark`, where it moved, to each repartition output of the turn. */
  forwardWatermark(turn: Turn, watermark: number): void {
    for (const sink of this.sinks) {
      if (watermark > (this.forwarded.get(sink) ?? -Infinity)) {
        this.forwarded.set(sink, watermark);
        turn.add(sink, { kind: 'watermark', watermark, upstream: this.upstream } satisfies RepartitionEnvelope<unknown>);
      }
    }
  }
}

/**
 * A record of a repartition topic, downstream: a control record moves the upstream's watermark
 * (and perhaps this partition's): `'watermark'`; a data record already taken from its upstream
 * is a `'duplicate'`; anything else goes on into the pipeline: `'data'`. A data record's own
 * watermark header moves its upstream's watermark first (so the partition's follows each record,
 * not each upstream batch).
 */
export function takeFromUpstream(record: LogRecord, time: PartitionTime): 'data' | 'watermark' | 'duplicate' {
  const header = (name: string): string | undefined => {
    const value = record.headers[name];
    return value === undefined ? undefined : String(value);
  };
  const upstream = header(RepartitionHeaders.upstream);
  if (upstream === undefined) return 'data';
  const watermark = header(RepartitionHeaders.watermark);
  const offset = header(RepartitionHeaders.offset);
  if (watermark !== undefined) time.upstreamWatermark(upstream, Number(watermark));
  if (offset === undefined) return 'watermark';
  const accepted = time.acceptUpstream(upstream, Number(offset), Number(header(RepartitionHeaders.seq)));
  return accepted ? 'data' : 'duplicate';
}

const REPARTITION_HEADERS: ReadonlySet<string> = new Set(Object.values(RepartitionHeaders));

/** `record` without the headers a repartition adds (a copy; records are shared with the log). */
export function withoutRepartitionHeaders(record: StreamRecord): StreamRecord {
  const { headers } = record;
  if (headers[RepartitionHeaders.upstream] === undefined) return record;
  const kept: Record<string, unknown> = {};
  for (const name in headers) if (!REPARTITION_HEADERS.has(name)) kept[name] = headers[name];
  return { ...record, headers: kept as StreamRecord['headers'] };
}
