import { nuid } from '@nats-io/transport-node';
import secureJsonParse from 'secure-json-parse';
import { z, type ZodType } from 'zod';
import { EnvelopeTooLargeError } from './errors.js';
import { TOKEN_PATTERN } from './subjects.js';

/**
 * The envelope version this node writes and reads. A node receiving another version rejects it (`unsupported-version`).
 *
 * @example
 * const envelope = { v: ENVELOPE_VERSION, kind: 'tell', from: 'a', id: newMessageId(), ts: Date.now(), body };
 */
export const ENVELOPE_VERSION = 1;

/**
 * Largest envelope sent or accepted, in bytes of JSON: 64 KiB.
 *
 * @example
 * new ClusterNode({ app, cluster: 'c', servers, maxEnvelopeBytes: 4 * DEFAULT_MAX_ENVELOPE_BYTES });
 */
export const DEFAULT_MAX_ENVELOPE_BYTES = 64 * 1024;

/**
 * What an envelope carries.
 *
 * @example
 * const kind: EnvelopeKind = 'heartbeat';
 */
export type EnvelopeKind = 'heartbeat' | 'leave' | 'tell' | 'ask' | 'reply' | 'control' | 'control-reply';

const KINDS = ['heartbeat', 'leave', 'tell', 'ask', 'reply', 'control', 'control-reply'] as const satisfies readonly EnvelopeKind[];

/**
 * Every message between nodes: versioned, from a named node, with a unique id and the sender's
 * clock, around a body whose schema depends on `kind`.
 *
 * @example
 * // {"v":1,"kind":"tell","from":"worker-1","id":"X5K...","ts":1700000000000,"body":{"path":"echo","message":{}}}
 * const envelope: Envelope<{ path: string }> = { v: 1, kind: 'tell', from: 'worker-1', id: newMessageId(), ts: Date.now(), body: { path: 'echo' } };
 */
export interface Envelope<B = unknown> {
  readonly v: typeof ENVELOPE_VERSION;
  readonly kind: EnvelopeKind;
  /** The sender's node id; must equal the last token of the subject it came on. */
  readonly from: string;
  /** Unique per message (a NUID); replies and control commands refer to it. */
  readonly id: string;
  /** Epoch ms at the sender (informative: nothing is judged on another node's clock). */
  readonly ts: number;
  readonly body: B;
}

/**
 * Why an inbound message was rejected: the `reason` label of `tributary_cluster_rejected_total`.
 *
 * @example
 * // tributary_cluster_rejected_total{reason="forged-sender"} 3
 * const reason: RejectionReason = 'forged-sender';
 */
export type RejectionReason =
  | 'oversized'
  | 'not-json'
  | 'unsupported-version'
  | 'malformed'
  | 'unexpected-kind'
  | 'invalid-body'
  | 'forged-sender'
  | 'unauthorized';

/**
 * The outcome of {@link openEnvelope}.
 *
 * @example
 * const opened: OpenedEnvelope<unknown> = openEnvelope(msg.data, { bodies: { tell: z.unknown() } });
 * if (!opened.ok) console.warn(opened.reason, opened.detail);
 */
export type OpenedEnvelope<B> =
  | { readonly ok: true; readonly envelope: Envelope<B> }
  | { readonly ok: false; readonly reason: RejectionReason; readonly detail: string };

/**
 * What {@link openEnvelope} accepts.
 *
 * @example
 * const options: OpenEnvelopeOptions<unknown> = { bodies: { tell: z.unknown() }, expectedFrom: senderOf(msg.subject), maxBytes: 65_536 };
 */
export interface OpenEnvelopeOptions<B> {
  /** Kinds accepted, each with its body schema. Any other kind is rejected as `unexpected-kind`. */
  readonly bodies: Partial<Record<EnvelopeKind, ZodType<B>>>;
  /** When set, `from` must equal it (the sender named by the subject), else `forged-sender`. */
  readonly expectedFrom?: string;
  /** Default {@link DEFAULT_MAX_ENVELOPE_BYTES}. */
  readonly maxBytes?: number;
}

const headerSchema = z
  .object({
    v: z.literal(ENVELOPE_VERSION),
    kind: z.enum(KINDS),
    from: z.string().regex(TOKEN_PATTERN),
    id: z.string().min(1).max(64),
    ts: z.number().int().nonnegative(),
    body: z.unknown(),
  })
  .strict();

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Validates an inbound message, in order of cost: size, UTF-8 JSON (no `__proto__` or
 * `constructor` keys), version, envelope fields, sender matches the subject, kind accepted, body
 * schema. Never throws: a bad message is an `{ ok: false, reason, detail }`.
 *
 * @example
 * const opened = openEnvelope(msg.data, { bodies: { tell: tellBody }, expectedFrom: senderOf(msg.subject) });
 * if (!opened.ok) rejections.reject(opened.reason, opened.detail, msg.subject);
 * else handle(opened.envelope.body);
 */
export function openEnvelope<B>(data: Uint8Array, options: OpenEnvelopeOptions<B>): OpenedEnvelope<B> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  if (data.byteLength > maxBytes) return reject('oversized', `${data.byteLength} bytes, limit ${maxBytes}`);
  let parsed: unknown;
  try {
    parsed = secureJsonParse.parse(decoder.decode(data), null, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    return reject('not-json', (err as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return reject('malformed', 'not a JSON object');
  const version = (parsed as { v?: unknown }).v;
  if (version !== ENVELOPE_VERSION) return reject('unsupported-version', `v is ${JSON.stringify(version) ?? 'missing'}, this node reads ${ENVELOPE_VERSION}`);
  const header = headerSchema.safeParse(parsed);
  if (!header.success) return reject('malformed', describeIssues(header.error.issues));
  const envelope = header.data;
  if (options.expectedFrom !== undefined && envelope.from !== options.expectedFrom) {
    return reject('forged-sender', `from '${envelope.from}' on the subject of '${options.expectedFrom}'`);
  }
  const bodySchema = options.bodies[envelope.kind];
  if (!bodySchema) return reject('unexpected-kind', `'${envelope.kind}' is not accepted here`);
  const body = bodySchema.safeParse(envelope.body);
  if (!body.success) return reject('invalid-body', `${envelope.kind}: ${describeIssues(body.error.issues)}`);
  return { ok: true, envelope: { ...envelope, v: ENVELOPE_VERSION, body: body.data } };
}

/**
 * Wraps `body` in a new envelope from `from` and encodes it as JSON bytes. Throws an
 * {@link EnvelopeTooLargeError} (nothing is sent) when it exceeds `maxBytes`.
 *
 * @example
 * nc.publish(subjects.heartbeat('worker-1'), sealEnvelope('heartbeat', 'worker-1', body));
 */
export function sealEnvelope(kind: EnvelopeKind, from: string, body: unknown, options: { maxBytes?: number; id?: string } = {}): Uint8Array {
  const envelope: Envelope = { v: ENVELOPE_VERSION, kind, from, id: options.id ?? nuid.next(), ts: Date.now(), body };
  const bytes = encoder.encode(JSON.stringify(envelope));
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  if (bytes.byteLength > maxBytes) throw new EnvelopeTooLargeError(bytes.byteLength, maxBytes, `a '${kind}' message`);
  return bytes;
}

/**
 * A fresh message id (NUID: 22 characters, unique without coordination).
 *
 * @example
 * const commandId = newMessageId(); // e.g. 'A3EloV6sSCeHiZ2bf484jr'
 */
export function newMessageId(): string {
  return nuid.next();
}

function reject(reason: RejectionReason, detail: string): OpenedEnvelope<never> {
  return { ok: false, reason, detail: detail.length > 300 ? `${detail.slice(0, 300)}…` : detail };
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 4)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
