import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Subscription as RxSubscription } from 'rxjs';
import { z, type ZodType } from 'zod';
import type { SupervisorClock } from '../supervision/clock.js';
import { sealEnvelope } from './envelope.js';
import { EnvelopeTooLargeError } from './errors.js';
import { subscribeEnvelopes } from './inbound.js';
import type { MemberReport, MemberTracker } from './member-tracker.js';
import type { ClusterRejections } from './rejections.js';
import type { ClusterSubjects } from './subjects.js';

const shortString = z.string().min(1).max(256);

/**
 * The body of a `heartbeat` envelope.
 *
 * @example
 * const report = heartbeatBody.parse(JSON.parse(text).body);
 */
export const heartbeatBody: ZodType<MemberReport> = z
  .object({
    incarnation: z.string().min(1).max(64),
    seq: z.number().int().nonnegative(),
    startedAt: z.number().int().nonnegative(),
    state: z.string().max(64),
    healthy: z.boolean(),
    handlers: z.array(shortString).max(1_000),
    processors: z
      .array(
        z.object({
          id: shortString,
          paused: z.boolean(),
          topics: z.array(shortString).max(100),
          partitions: z
            .array(z.object({ topic: shortString, partition: z.number().int().nonnegative(), state: z.string().max(64) }))
            .max(10_000),
        }),
      )
      .max(1_000),
    groups: z
      .array(z.object({ group: shortString, member: shortString }).strict())
      .max(1_000)
      .optional(),
  })
  .strict();

/**
 * The body of a `leave` envelope: the incarnation that leaves.
 *
 * @example
 * leaveBody.parse({ incarnation: 'f3a9c1d2e4b5a6c7' });
 */
export const leaveBody = z.object({ incarnation: z.string().min(1).max(64) }).strict();

/**
 * What a node reports about itself each heartbeat (the membership adds incarnation, seq, startedAt).
 *
 * @example
 * const report: ReportSource = () => ({ state: 'running', healthy: true, handlers: [], processors: [] });
 */
export type ReportSource = () => Omit<MemberReport, 'incarnation' | 'seq' | 'startedAt'>;

/**
 * Options of {@link Membership}.
 *
 * @example
 * new Membership({ connection: nc, subjects: clusterSubjects('c'), nodeId: 'a', incarnation: 'i1', startedAt: Date.now(), tracker, report, clock: systemClock, maxBytes: 65_536, rejections, logger });
 */
export interface MembershipOptions {
  readonly connection: NatsConnection;
  readonly subjects: ClusterSubjects;
  readonly nodeId: string;
  readonly incarnation: string;
  readonly startedAt: number;
  readonly tracker: MemberTracker;
  readonly report: ReportSource;
  readonly clock: SupervisorClock;
  readonly maxBytes: number;
  readonly rejections: ClusterRejections;
  readonly logger: Logger;
  /** Registers `tributary_cluster_members{status}` here. */
  readonly registry?: Registry;
}

/** How soon after a change (a partition assigned or revoked) an extra heartbeat goes out. */
const PROMPT_HEARTBEAT_MS = 20;

/**
 * The networking half of membership: heartbeats this node every `heartbeatIntervalMs` (250 ms)
 * on `tributary.<cluster>.heartbeat.<node>` with what it runs, feeds every valid heartbeat and
 * leave notice it receives to the {@link MemberTracker}, and announces a graceful leave on stop.
 *
 * @example
 * const membership = new Membership({ connection: nc, subjects, nodeId: 'a', incarnation, startedAt: Date.now(), tracker, report, clock: systemClock, maxBytes: 65_536, rejections, logger });
 * membership.start();
 * tracker.events.subscribe((e) => logger.info(e, 'membership'));
 * await membership.stop(); // announces the leave
 */
export class Membership {
  private seq = 0;
  private timer: unknown;
  private promptTimer: unknown;
  private subscription: Subscription | undefined;
  private gaugeSubscription: RxSubscription | undefined;
  private running = false;
  private tooLargeLogged = false;
  private duplicateLoggedAt = 0;

  constructor(private readonly options: MembershipOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const { options } = this;
    this.subscription = subscribeEnvelopes<MemberReport | z.infer<typeof leaveBody>>({
      connection: options.connection,
      subject: options.subjects.heartbeats,
      bodies: { heartbeat: heartbeatBody, leave: leaveBody },
      maxBytes: options.maxBytes,
      rejections: options.rejections,
      logger: options.logger,
      onEnvelope: (envelope) => {
        const incarnation = (envelope.body as { incarnation: string }).incarnation;
        if (envelope.from === options.nodeId && incarnation !== options.incarnation) this.duplicateId(incarnation);
        else if (envelope.kind === 'leave') options.tracker.leave(envelope.from, incarnation);
        else options.tracker.heartbeat(envelope.from, envelope.body as MemberReport);
      },
    });
    if (options.registry) this.countMembers(options.registry);
    this.beat();
  }

  /** Sends a heartbeat within 20 ms (coalesced), e.g. after a partition was assigned or revoked, so others see it before the next tick. */
  beatSoon(): void {
    if (!this.running || this.promptTimer !== undefined) return;
    this.promptTimer = this.options.clock.setTimeout(() => {
      this.promptTimer = undefined;
      this.beat();
    }, PROMPT_HEARTBEAT_MS);
  }

  /** Stops heartbeating, announces the leave, and unsubscribes. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const { options } = this;
    options.clock.clearTimeout(this.timer);
    options.clock.clearTimeout(this.promptTimer);
    this.gaugeSubscription?.unsubscribe();
    try {
      if (!options.connection.isClosed()) {
        options.connection.publish(
          options.subjects.heartbeat(options.nodeId),
          sealEnvelope('leave', options.nodeId, { incarnation: options.incarnation }, { maxBytes: options.maxBytes }),
        );
        await withTimeout(options.connection.flush(), 2_000);
      }
    } catch (err) {
      options.logger.warn({ err: (err as Error).message }, 'could not announce the leave; others will declare this node down');
    }
    this.subscription?.unsubscribe();
  }

  /** One heartbeat now (also updates this node in its own view), then the next one in `heartbeatIntervalMs`. */
  private beat(): void {
    const { options } = this;
    options.clock.clearTimeout(this.timer);
    if (!this.running) return;
    try {
      const report: MemberReport = { ...options.report(), incarnation: options.incarnation, seq: ++this.seq, startedAt: options.startedAt };
      options.tracker.updateSelf(report);
      if (!options.connection.isClosed()) {
        options.connection.publish(options.subjects.heartbeat(options.nodeId), sealEnvelope('heartbeat', options.nodeId, report, { maxBytes: options.maxBytes }));
      }
    } catch (err) {
      if (err instanceof EnvelopeTooLargeError) {
        if (!this.tooLargeLogged) options.logger.error({ err: err.message }, 'heartbeat too large to send (too many partitions?): raise maxEnvelopeBytes');
        this.tooLargeLogged = true;
      } else {
        options.logger.warn({ err: (err as Error).message }, 'heartbeat not sent');
      }
    }
    this.timer = options.clock.setTimeout(() => this.beat(), options.tracker.timings.heartbeatIntervalMs);
  }

  /** Another process heartbeats under this node's id: a configuration error that breaks routing. Logged every 10 s at most. */
  private duplicateId(incarnation: string): void {
    const now = Date.now();
    if (now - this.duplicateLoggedAt < 10_000) return;
    this.duplicateLoggedAt = now;
    this.options.logger.error(
      { nodeId: this.options.nodeId, other: incarnation },
      'another process uses this node id in this cluster: give every node a unique nodeId (its heartbeats are ignored here)',
    );
  }

  private countMembers(registry: Registry): void {
    const name = 'tributary_cluster_members';
    const gauge =
      (registry.getSingleMetric(name) as Gauge<'status'> | undefined) ??
      new Gauge({ name, help: "Members in this node's view of the cluster, by status (itself included).", labelNames: ['status'], registers: [registry] });
    this.gaugeSubscription = this.options.tracker.changes.subscribe((snapshot) => {
      for (const status of ['alive', 'suspected', 'down', 'left'] as const) {
        gauge.set({ status }, snapshot.members.filter((m) => m.status === status).length);
      }
    });
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
