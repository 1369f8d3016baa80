import type { StateMark } from '../state/partition-state.js';

/**
 * Where a partition pipeline starts, and in which state: what a commit records in the offset's
 * metadata, and what a restart or a new owner of the partition reads back.
 *
 * - `offset`: the committed offset, the first record to read.
 * - `time`: the partition's event-time state just before that record (its watermark, and for a
 *   stage downstream of a repartition, each upstream partition's watermark and last record), so
 *   the replayed records move the watermark exactly as they did the first time: windows fire at
 *   the same records, with the same contents, and the same records are late.
 * - `replayUntil`: every record before it was complete (its results acknowledged) when the
 *   commit was made. Records from `offset` up to it are replayed only to rebuild open windows
 *   and keyed state; what they emit again is dropped, since it was already delivered.
 *
 * @example
 * const metadata = encodeResumePoint({ offset: 120, time: { watermark: 59_000 }, replayUntil: 180 });
 * decodeResumePoint(120, metadata); // { offset: 120, time: { watermark: 59000 }, replayUntil: 180 }
 */
export interface ResumePoint {
  readonly offset: number;
  readonly time: TimeState;
  readonly replayUntil: number;
  /**
   * With stores: the owner's epoch and each store's changelog position for the state at
   * `offset` (a restore reads each changelog up to its position, and no further).
   */
  readonly state?: StateMark;
}

/** What an upstream partition of a repartition has told a downstream partition so far. */
export interface UpstreamMark {
  /** Its watermark. */
  readonly watermark: number;
  /** The upstream offset and sequence number of the last record taken from it (for dropping replayed duplicates). */
  readonly offset: number;
  readonly seq: number;
}

/** A partition's event-time state, immutable: a new value whenever it changes. */
export interface TimeState {
  readonly watermark: number;
  /** Only downstream of a repartition: per upstream partition (`topic:partition`). */
  readonly upstreams?: Readonly<Record<string, UpstreamMark>>;
}

const VERSION = 2;

/** ±Infinity survive JSON as strings. */
function encodeNumber(n: number): number | string {
  return Number.isFinite(n) ? n : n > 0 ? '+inf' : '-inf';
}

function decodeNumber(v: unknown, fallback: number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === '+inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return fallback;
}

/** The commit metadata for `point`: short JSON (a few hundred bytes with a dozen upstreams; Kafka allows 4,096 by default). */
export function encodeResumePoint(point: ResumePoint): string {
  const up: Record<string, [number | string, number, number]> = {};
  for (const [id, mark] of Object.entries(point.time.upstreams ?? {})) up[id] = [encodeNumber(mark.watermark), mark.offset, mark.seq];
  return JSON.stringify({
    v: VERSION,
    wm: encodeNumber(point.time.watermark),
    until: point.replayUntil,
    ...(point.time.upstreams ? { up } : {}),
    ...(point.state ? { st: { e: point.state.epoch, p: point.state.positions, ...(point.state.owners ? { o: point.state.owners } : {}) } } : {}),
  });
}

/**
 * The resume point of a committed `offset` and its metadata. Missing or unreadable metadata
 * (a group committed by another tool) gives a plain start: no watermark, nothing to replay.
 */
export function decodeResumePoint(offset: number, metadata: string | undefined | null): ResumePoint {
  const plain: ResumePoint = { offset, time: { watermark: -Infinity }, replayUntil: offset };
  if (!metadata) return plain;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; wm?: unknown; until?: unknown; up?: unknown; st?: unknown };
    if (parsed.v !== VERSION) return plain;
    const watermark = decodeNumber(parsed.wm, -Infinity);
    const until = typeof parsed.until === 'number' && Number.isSafeInteger(parsed.until) && parsed.until >= offset ? parsed.until : offset;
    let upstreams: Record<string, UpstreamMark> | undefined;
    if (parsed.up && typeof parsed.up === 'object') {
      upstreams = {};
      for (const [id, value] of Object.entries(parsed.up as Record<string, unknown>)) {
        if (!Array.isArray(value) || value.length !== 3) return plain;
        upstreams[id] = { watermark: decodeNumber(value[0], -Infinity), offset: Number(value[1]), seq: Number(value[2]) };
      }
    }
    const state = decodeStateMark(parsed.st);
    return { offset, time: upstreams ? { watermark, upstreams } : { watermark }, replayUntil: until, ...(state ? { state } : {}) };
  } catch {
    return plain;
  }
}

function decodeStateMark(value: unknown): StateMark | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { e, p, o } = value as { e?: unknown; p?: unknown; o?: unknown };
  if (typeof e !== 'number' || !Number.isSafeInteger(e) || !p || typeof p !== 'object') return undefined;
  const positions: Record<string, number> = {};
  for (const [name, position] of Object.entries(p as Record<string, unknown>)) {
    if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0) positions[name] = position;
  }
  const owners: Record<string, string> = {};
  if (o && typeof o === 'object') {
    for (const [name, owner] of Object.entries(o as Record<string, unknown>)) if (typeof owner === 'string' && owner.length > 0) owners[name] = owner;
  }
  return { epoch: e, positions, owners };
}
