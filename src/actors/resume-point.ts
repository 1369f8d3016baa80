/**
 * Where a partition pipeline starts, and in which state: what a commit records in the offset's
 * metadata, and what a restart or a new owner of the partition reads back.
 *
 * - `offset`: the committed offset, the first record to read.
 * - `watermark`: the partition's watermark just before that record, so the replayed records
 *   move the watermark exactly as they did the first time: windows fire at the same records,
 *   with the same contents, and the same records are late.
 * - `replayUntil`: every record before it was complete (its results acknowledged) when the
 *   commit was made. Records from `offset` up to it are replayed only to rebuild open windows
 *   and keyed state; what they emit again is dropped, since it was already delivered.
 *
 * @example
 * const metadata = encodeResumePoint({ offset: 120, watermark: 59_000, replayUntil: 180 });
 * decodeResumePoint(120, metadata); // { offset: 120, watermark: 59000, replayUntil: 180 }
 */
export interface ResumePoint {
  readonly offset: number;
  readonly watermark: number;
  readonly replayUntil: number;
}

const VERSION = 1;

/** The commit metadata for `point` (a short JSON string, far below Kafka's 4,096-byte limit). */
export function encodeResumePoint(point: ResumePoint): string {
  const watermark = Number.isFinite(point.watermark) ? point.watermark : null;
  return JSON.stringify({ v: VERSION, wm: watermark, until: point.replayUntil });
}

/**
 * The resume point of a committed `offset` and its metadata. Missing or unreadable metadata
 * (a group committed by another tool) gives a plain start: no watermark, nothing to replay.
 */
export function decodeResumePoint(offset: number, metadata: string | undefined | null): ResumePoint {
  const plain: ResumePoint = { offset, watermark: -Infinity, replayUntil: offset };
  if (!metadata) return plain;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; wm?: unknown; until?: unknown };
    if (parsed.v !== VERSION) return plain;
    const watermark = typeof parsed.wm === 'number' && Number.isFinite(parsed.wm) ? parsed.wm : -Infinity;
    const until = typeof parsed.until === 'number' && Number.isSafeInteger(parsed.until) && parsed.until >= offset ? parsed.until : offset;
    return { offset, watermark, replayUntil: until };
  } catch {
    return plain;
  }
}
