import { ConfigError } from '../errors.js';
import type { WatermarkClock } from './watermark-clock.js';

/**
 * Settings of a {@link MinWatermark}.
 *
 * @example
 * const options: MinWatermarkOptions = { clock, upstreams: [0, 1, 2, 3] }; // the upstream partitions
 */
export interface MinWatermarkOptions {
  /** The downstream partition's clock, advanced to the minimum of the upstream watermarks. */
  readonly clock: WatermarkClock;
  /** Every upstream that feeds it (e.g. the upstream partitions' ids). Each starts at `-Infinity`. */
  readonly upstreams: Iterable<string | number>;
}

/**
 * The watermark downstream of a repartition: the minimum over the upstream partitions that
 * feed it, so a record that was on time upstream is never late downstream.
 *
 * Each upstream reports its own watermark with {@link update} (upstream watermarks only move
 * forward; an older report is ignored). Whenever the minimum moves forward, the downstream
 * clock is advanced to it. An upstream that ended reports `Infinity`.
 *
 * @example
 * const clock = new WatermarkClock();
 * const min = new MinWatermark({ clock, upstreams: [0, 1] });
 * min.update(0, 60_000); // clock still -Infinity: upstream 1 has said nothing
 * min.update(1, 55_000); // clock.current === 55_000
 */
export class MinWatermark {
  private readonly clock: WatermarkClock;
  private readonly marks = new Map<string | number, number>();

  constructor(options: MinWatermarkOptions) {
    if (!options || !options.clock || typeof options.clock.advanceTo !== 'function') {
      throw new ConfigError('MinWatermark.clock', 'must be a WatermarkClock');
    }
    this.clock = options.clock;
    for (const upstream of options.upstreams ?? []) this.marks.set(upstream, -Infinity);
    if (this.marks.size === 0) throw new ConfigError('MinWatermark.upstreams', 'must name at least one upstream');
  }

  /** The minimum over the upstream watermarks. */
  get current(): number {
    let min = Infinity;
    for (const mark of this.marks.values()) if (mark < min) min = mark;
    return min;
  }

  /** Records `upstream`'s watermark and advances the clock to the new minimum. */
  update(upstream: string | number, watermark: number): void {
    const previous = this.marks.get(upstream);
    if (previous === undefined) throw new RangeError(`MinWatermark.update: unknown upstream ${String(upstream)}`);
    if (!(watermark > previous)) return;
    this.marks.set(upstream, watermark);
    const min = this.current;
    if (min > this.clock.current) this.clock.advanceTo(min);
  }
}
