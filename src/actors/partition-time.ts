import { WatermarkClock } from '../streams/watermark-clock.js';
import type { TimeState, UpstreamMark } from './resume-point.js';

/** Options of {@link PartitionTime}. */
export interface PartitionTimeOptions {
  readonly outOfOrdernessMs: number;
  /** The state to start in (from the resume point). */
  readonly resume: TimeState;
  /** Downstream of a repartition: the upstream partitions (`topic:partition`) whose minimum watermark this one follows. */
  readonly upstreams?: readonly string[];
}

const NO_MARK: UpstreamMark = { watermark: -Infinity, offset: -1, seq: -1 };

/**
 * The event time of one partition: its watermark clock and, downstream of a repartition, what
 * each upstream partition has told it (watermark, last record). Its state is an immutable value
 * ({@link snapshot}) recorded before every record, so a commit can say exactly in which state a
 * replay from that offset must start.
 *
 * - A source partition's watermark follows its own records: max event time − the bound.
 * - A repartition stage's watermark is the minimum over its upstream partitions' watermarks,
 *   which arrive as control records; a record an upstream partition wrote again after its own
 *   replay (same upstream offset and sequence, or older) is recognised as a duplicate.
 *
 * @example
 * const time = new PartitionTime({ outOfOrdernessMs: 0, resume: { watermark: -Infinity }, upstreams: ['clicks:0', 'clicks:1'] });
 * time.upstreamWatermark('clicks:0', 5_000);
 * time.upstreamWatermark('clicks:1', 4_000);
 * time.clock.current; // 4000
 */
export class PartitionTime {
  readonly clock: WatermarkClock;
  private readonly marks: Map<string, UpstreamMark> | undefined;
  private cached: TimeState | undefined;

  constructor(options: PartitionTimeOptions) {
    this.clock = new WatermarkClock({ outOfOrderness: options.outOfOrdernessMs, initial: options.resume.watermark });
    if (options.upstreams) {
      this.marks = new Map();
      for (const id of options.upstreams) this.marks.set(id, options.resume.upstreams?.[id] ?? NO_MARK);
      for (const [id, mark] of Object.entries(options.resume.upstreams ?? {})) if (!this.marks.has(id)) this.marks.set(id, mark);
    }
  }

  /** Whether the watermark follows upstream partitions rather than this partition's records. */
  get followsUpstreams(): boolean {
    return this.marks !== undefined;
  }

  /** The current state, as an immutable value (the same object until something changes). */
  snapshot(): TimeState {
    const watermark = this.clock.current;
    if (this.cached && this.cached.watermark === watermark) return this.cached;
    this.cached = this.marks ? { watermark, upstreams: recordOf(this.marks) } : { watermark };
    return this.cached;
  }

  /** An upstream partition's watermark arrived: the clock moves to the new minimum. */
  upstreamWatermark(upstream: string, watermark: number): void {
    if (!this.marks) return;
    const mark = this.marks.get(upstream) ?? NO_MARK;
    if (!(watermark > mark.watermark)) return;
    this.marks.set(upstream, { ...mark, watermark });
    this.cached = undefined;
    let min = Infinity;
    for (const m of this.marks.values()) if (m.watermark < min) min = m.watermark;
    if (min > this.clock.current) this.clock.advanceTo(min);
  }

  /** What `upstream` has told this partition of its watermark (`-Infinity` before anything). */
  upstreamWatermarkOf(upstream: string): number {
    return this.marks?.get(upstream)?.watermark ?? -Infinity;
  }

  /** A data record from an upstream partition: false when it is a duplicate of one already taken. */
  acceptUpstream(upstream: string, offset: number, seq: number): boolean {
    if (!this.marks) return true;
    const mark = this.marks.get(upstream) ?? NO_MARK;
    if (offset < mark.offset || (offset === mark.offset && seq <= mark.seq)) return false;
    this.marks.set(upstream, { watermark: mark.watermark, offset, seq });
    this.cached = undefined;
    return true;
  }
}

/**
 * The marks as a plain object. Downstream of a repartition every record changes its upstream's
 * mark, so this runs once a record: `forEach`, not `Object.fromEntries`, whose entry arrays and
 * iterator were about 0.5 KB of garbage a click in `npm run demo` (a sampling heap profile).
 */
function recordOf(marks: ReadonlyMap<string, UpstreamMark>): Record<string, UpstreamMark> {
  const upstreams: Record<string, UpstreamMark> = {};
  marks.forEach((mark, id) => {
    upstreams[id] = mark;
  });
  return upstreams;
}
