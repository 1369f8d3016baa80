import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import { openEnvelope, type Envelope, type EnvelopeKind } from './envelope.js';
import type { ClusterRejections } from './rejections.js';
import { senderOf } from './subjects.js';

/**
 * Options of {@link subscribeEnvelopes}.
 *
 * @example
 * const options: InboundOptions<unknown> = { connection: nc, subject: 'tributary.c.actor.a.*', bodies: { tell: z.unknown() }, maxBytes: 65_536, rejections, logger, onEnvelope: (e) => console.log(e.from) };
 */
export interface InboundOptions<B> {
  readonly connection: NatsConnection;
  readonly subject: string;
  /** Kinds accepted on this subject, with their body schemas. */
  readonly bodies: Partial<Record<EnvelopeKind, ZodType<B>>>;
  /** The sender must be the last token of the subject (true on every cluster subject). Default true. */
  readonly senderInSubject?: boolean;
  readonly maxBytes: number;
  readonly rejections: ClusterRejections;
  readonly logger: Logger;
  /** Called with each valid envelope; a throw or a rejected promise is logged, never propagated. */
  readonly onEnvelope: (envelope: Envelope<B>, msg: Msg) => void | Promise<void>;
}

/**
 * Subscribes to `subject` with a callback that validates every message ({@link openEnvelope}),
 * counts and logs the rejected ones, and hands the valid ones to `onEnvelope`. Nothing thrown
 * inside reaches nats.js (an exception in a subscription callback would break the connection's
 * parser): the callback is a wall between the network and the node.
 *
 * @example
 * const sub = subscribeEnvelopes({
 *   connection: nc, subject: subjects.heartbeats, bodies: { heartbeat: heartbeatBody },
 *   maxBytes: 65_536, rejections, logger,
 *   onEnvelope: (envelope) => tracker.heartbeat(envelope.from, envelope.body),
 * });
 */
export function subscribeEnvelopes<B>(options: InboundOptions<B>): Subscription {
  const { rejections, logger } = options;
  const senderInSubject = options.senderInSubject ?? true;
  return options.connection.subscribe(options.subject, {
    callback: (err, msg) => {
      if (err) {
        logger.warn({ err: err.message, subject: options.subject }, 'cluster subscription error');
        return;
      }
      try {
        const opened = openEnvelope<B>(msg.data, {
          bodies: options.bodies,
          expectedFrom: senderInSubject ? senderOf(msg.subject) : undefined,
          maxBytes: options.maxBytes,
        });
        if (!opened.ok) {
          rejections.reject(opened.reason, opened.detail, msg.subject);
          return;
        }
        const result = options.onEnvelope(opened.envelope, msg);
        if (result && typeof (result).catch === 'function') {
          (result).catch((handlerErr: unknown) =>
            logger.error({ err: handlerErr, subject: msg.subject }, 'cluster message handler failed'),
          );
        }
      } catch (handlerErr) {
        logger.error({ err: handlerErr, subject: msg.subject }, 'cluster message handler failed');
      }
    },
  });
}
