import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ClusterHost, NodeStatus } from './cluster-host.js';
import { ConfigError } from '../errors.js';
import type { SupervisorSnapshot } from '../supervision/supervisor-snapshot.js';
import { newMessageId, sealEnvelope, type Envelope } from './envelope.js';
import { ClusterError, EnvelopeTooLargeError } from './errors.js';
import { subscribeEnvelopes } from './inbound.js';
import type { MemberStatus, MemberTracker, MembershipSnapshot } from './member-tracker.js';
import type { ClusterRejections } from './rejections.js';
import type { ClusterSubjects } from './subjects.js';

/**
 * A control command, run on every node (or on `targets`):
 * - `status`: the node's `app.status()`, health, supervision tree and consumer lag;
 * - `pause` / `resume`: stop / restart fetching a processor's partitions on the node (records
 *   in flight finish; idempotent);
 * - `drain`: stop the processor on the node: stop fetching, finish and commit what is in
 *   flight, leave its consumer group (its partitions move to nodes that still run it; it stays
 *   stopped on this node until the app restarts).
 *
 * @example
 * await node.command({ type: 'pause', processor: 'page-views' }, { targets: ['worker-2'] });
 */
export type ControlCommand =
  | { readonly type: 'status' }
  | { readonly type: 'pause'; readonly processor: string }
  | { readonly type: 'resume'; readonly processor: string }
  | { readonly type: 'drain'; readonly processor: string };

/**
 * One node's answer to a control command.
 *
 * @example
 * const failed = (await node.pause('page-views')).replies.filter((r: ControlReply) => !r.ok);
 */
export interface ControlReply {
  readonly node: string;
  readonly ok: boolean;
  /** The node had run this command id already: nothing was done again, this is the first run's answer. */
  readonly duplicate: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/**
 * Every answer to one command.
 *
 * @example
 * const outcome: ControlOutcome = await node.resume('page-views');
 * if (outcome.missing.length) console.warn('no answer from', outcome.missing);
 */
export interface ControlOutcome {
  readonly commandId: string;
  readonly command: ControlCommand;
  /** Sorted by node. */
  readonly replies: readonly ControlReply[];
  /** Nodes expected to answer (live members, or the targets) that did not within the timeout. */
  readonly missing: readonly string[];
}

/**
 * One node in a {@link ClusterStatus}.
 *
 * @example
 * const lagging = (await node.status()).nodes.filter((n: NodeReport) => n.lag?.some((l) => l.lag > 10_000));
 */
export interface NodeReport {
  readonly node: string;
  /** How this node's membership sees it. */
  readonly membership: MemberStatus | 'unknown';
  /** Whether it answered the status command. */
  readonly reachable: boolean;
  readonly status?: NodeStatus;
  readonly healthy?: boolean;
  readonly supervision?: SupervisorSnapshot;
  readonly lag?: ReadonlyArray<{ readonly processor: string; readonly topic: string; readonly partition: number; readonly lag: number }>;
}

/**
 * The whole cluster, as gathered by {@link ClusterControl.status}.
 *
 * @example
 * const status: ClusterStatus = await node.status();
 * for (const n of status.nodes) console.log(n.node, n.membership, n.healthy);
 */
export interface ClusterStatus {
  readonly at: number;
  /** The node that gathered it. */
  readonly gatheredBy: string;
  readonly nodes: readonly NodeReport[];
  /** Who owns which partition, from the membership view. */
  readonly partitions: MembershipSnapshot['partitions'];
}

/**
 * Options of {@link ClusterControl.send}.
 *
 * @example
 * await node.drain('page-views', { targets: ['worker-3'], timeoutMs: 60_000 });
 */
export interface ControlOptions {
  /** Only these nodes run it (default: every node; every live member is expected to answer). */
  readonly targets?: readonly string[];
  /** How long to gather replies. Default: `controlTimeoutMs` (2,000 ms); `drain` 35,000 ms. */
  readonly timeoutMs?: number;
  /** Reuse an id to resend a command: nodes that ran it already answer without running it again. Default: a new id. */
  readonly commandId?: string;
}

const processorName = z.string().min(1).max(256);
const commandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status') }).strict(),
  z.object({ type: z.literal('pause'), processor: processorName }).strict(),
  z.object({ type: z.literal('resume'), processor: processorName }).strict(),
  z.object({ type: z.literal('drain'), processor: processorName }).strict(),
]);
const controlBody = z
  .object({
    commandId: z.string().min(1).max(64),
    command: commandSchema,
    targets: z.array(z.string().min(1).max(64)).max(1_000).optional(),
  })
  .strict();
type ControlBody = z.infer<typeof controlBody>;
const controlReplyBody = z
  .object({
    commandId: z.string().min(1).max(64),
    ok: z.boolean(),
    duplicate: z.boolean(),
    result: z.unknown().optional(),
    error: z.string().max(2_000).optional(),
  })
  .strict();
type ControlReplyBody = z.infer<typeof controlReplyBody>;

/** How many command ids a node remembers, and for how long: a resend within that is answered from memory. */
const REMEMBER_COMMANDS = 10_000;
const REMEMBER_MS = 10 * 60_000;
const DRAIN_TIMEOUT_MS = 35_000;

/**
 * Options of {@link ClusterControl}.
 *
 * @example
 * new ClusterControl({ app, subjects, nodeId: 'a', tracker, maxBytes: 65_536, rejections, logger, timeoutMs: 2_000 });
 */
export interface ClusterControlOptions {
  readonly app: ClusterHost;
  readonly subjects: ClusterSubjects;
  readonly nodeId: string;
  readonly tracker: MemberTracker;
  readonly maxBytes: number;
  readonly rejections: ClusterRejections;
  readonly logger: Logger;
  /** Default reply-gathering timeout. */
  readonly timeoutMs: number;
  /** When set, commands from other senders are rejected (`unauthorized`). Default: any node of the cluster. */
  readonly acceptFrom?: readonly string[];
}

/**
 * Cluster-wide status and control. A command is published once on
 * `tributary.<cluster>.control.<sender>`, with a command id; every node (or every target) runs it
 * and replies to the sender's inbox; the sender gathers the replies until every live member (or
 * target) answered, or the timeout. Core NATS delivers at most once, so the sender resends the
 * same command (same id) at 1/3 and 2/3 of the timeout to the nodes that have not answered; a
 * node runs a command id once and answers every resend from memory (10,000 ids, 10 minutes),
 * flagged `duplicate`.
 *
 * @example
 * const outcome = await node.pause('page-views'); // every node pauses it
 * if (outcome.missing.length > 0) console.warn('not confirmed by', outcome.missing);
 * const status = await node.status(); // every node's app.status(), health, supervision tree, lag
 */
export class ClusterControl {
  private connection: NatsConnection | undefined;
  private subscription: Subscription | undefined;
  private readonly executed = new Map<string, { readonly at: number; readonly reply: Promise<Omit<ControlReplyBody, 'duplicate' | 'commandId'>> }>();

  constructor(private readonly options: ClusterControlOptions) {}

  start(connection: NatsConnection): void {
    this.connection = connection;
    this.subscription = subscribeEnvelopes<ControlBody>({
      connection,
      subject: this.options.subjects.controls,
      bodies: { control: controlBody },
      maxBytes: this.options.maxBytes,
      rejections: this.options.rejections,
      logger: this.options.logger,
      onEnvelope: (envelope, msg) => this.receive(envelope, msg),
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Runs `command` on every node (or `targets`) and gathers the replies. See the class documentation. */
  async send(command: ControlCommand, options: ControlOptions = {}): Promise<ControlOutcome> {
    const parsed = commandSchema.safeParse(command);
    if (!parsed.success) throw new ConfigError('control.command', parsed.error.issues.map((i) => i.message).join('; '));
    const connection = this.connection;
    if (!connection || connection.isClosed()) throw new ClusterError('this cluster node is not started or its NATS connection is closed');
    const timeoutMs = options.timeoutMs ?? (command.type === 'drain' ? DRAIN_TIMEOUT_MS : this.options.timeoutMs);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new ConfigError('control.timeoutMs', `must be a positive integer, got ${String(timeoutMs)}`);
    const commandId = options.commandId ?? newMessageId();
    if (typeof commandId !== 'string' || commandId.length === 0 || commandId.length > 64) {
      throw new ConfigError('control.commandId', `must be a string of 1 to 64 characters, got ${JSON.stringify(commandId)}`);
    }
    const targets = options.targets ? [...options.targets] : undefined;
    const expected = new Set(
      targets ?? this.options.tracker.snapshot().members.filter((m) => m.status === 'alive' || m.status === 'suspected').map((m) => m.node),
    );
    const replies = new Map<string, ControlReply>();
    const inbox = createInbox();
    let done!: () => void;
    const allIn = new Promise<void>((resolve) => (done = resolve));
    const sub = subscribeEnvelopes<ControlReplyBody>({
      connection,
      subject: inbox,
      bodies: { 'control-reply': controlReplyBody },
      senderInSubject: false,
      maxBytes: this.options.maxBytes,
      rejections: this.options.rejections,
      logger: this.options.logger,
      onEnvelope: (envelope) => {
        if (envelope.body.commandId !== commandId || replies.has(envelope.from)) return;
        const { ok, duplicate, result, error } = envelope.body;
        replies.set(envelope.from, { node: envelope.from, ok, duplicate, ...(result !== undefined ? { result } : {}), ...(error !== undefined ? { error } : {}) });
        if ([...expected].every((node) => replies.has(node))) done();
      },
    });
    const body: ControlBody = { commandId, command: parsed.data, ...(targets ? { targets } : {}) };
    const data = sealEnvelope('control', this.options.nodeId, body, { maxBytes: this.options.maxBytes });
    const subject = this.options.subjects.control(this.options.nodeId);
    const timers: NodeJS.Timeout[] = [];
    try {
      connection.publish(subject, data, { reply: inbox });
      for (const at of [timeoutMs / 3, (2 * timeoutMs) / 3]) {
        timers.push(
          setTimeout(() => {
            if (![...expected].every((node) => replies.has(node)) && !connection.isClosed()) connection.publish(subject, data, { reply: inbox });
          }, at),
        );
      }
      if (expected.size > 0) {
        await Promise.race([allIn, new Promise<void>((resolve) => timers.push(setTimeout(resolve, timeoutMs)))]);
      } else {
        await new Promise<void>((resolve) => timers.push(setTimeout(resolve, timeoutMs)));
      }
    } finally {
      for (const timer of timers) clearTimeout(timer);
      sub.unsubscribe();
    }
    return {
      commandId,
      command: parsed.data,
      replies: [...replies.values()].sort((a, b) => a.node.localeCompare(b.node)),
      missing: [...expected].filter((node) => !replies.has(node)).sort(),
    };
  }

  /** Every node's status, health, supervision tree and lag, with how the membership sees it. */
  async status(options: Omit<ControlOptions, 'commandId'> = {}): Promise<ClusterStatus> {
    const outcome = await this.send({ type: 'status' }, options);
    const snapshot = this.options.tracker.snapshot();
    const nodes = new Set([...snapshot.members.map((m) => m.node), ...outcome.replies.map((r) => r.node)]);
    const reports: NodeReport[] = [...nodes].sort().map((node) => {
      const membership = snapshot.members.find((m) => m.node === node)?.status ?? 'unknown';
      const reply = outcome.replies.find((r) => r.node === node);
      if (!reply?.ok) return { node, membership, reachable: reply !== undefined };
      const result = reply.result as Omit<NodeReport, 'node' | 'membership' | 'reachable'>;
      return { node, membership, reachable: true, ...result };
    });
    return { at: Date.now(), gatheredBy: this.options.nodeId, nodes: reports, partitions: snapshot.partitions };
  }

  private receive(envelope: Envelope<ControlBody>, msg: Msg): Promise<void> | void {
    const { acceptFrom } = this.options;
    if (acceptFrom && !acceptFrom.includes(envelope.from)) {
      this.options.rejections.reject('unauthorized', `control from '${envelope.from}', who is not in acceptFrom`, msg.subject);
      return;
    }
    const { commandId, command, targets } = envelope.body;
    if (targets && !targets.includes(this.options.nodeId)) return;
    this.forgetOld();
    // Remembered per sender: another node reusing an id cannot suppress this sender's command.
    const memoryKey = `${envelope.from}/${commandId}`;
    const known = this.executed.get(memoryKey);
    const reply = known?.reply ?? this.execute(command, envelope.from);
    if (!known) this.executed.set(memoryKey, { at: Date.now(), reply });
    return reply.then((body) => {
      if (!msg.reply) return;
      const full: ControlReplyBody = { commandId, ...body, duplicate: known !== undefined };
      let data: Uint8Array;
      try {
        data = sealEnvelope('control-reply', this.options.nodeId, full, { maxBytes: this.options.maxBytes });
      } catch (err) {
        if (!(err instanceof EnvelopeTooLargeError)) throw err;
        data = sealEnvelope('control-reply', this.options.nodeId, { commandId, ok: false, duplicate: full.duplicate, error: err.message }, { maxBytes: this.options.maxBytes });
      }
      msg.respond(data);
    });
  }

  /** Runs a command once; never rejects. */
  private async execute(command: ControlCommand, from: string): Promise<Omit<ControlReplyBody, 'duplicate' | 'commandId'>> {
    const { app, logger } = this.options;
    try {
      switch (command.type) {
        case 'status':
          return { ok: true, result: await this.localStatus() };
        case 'pause':
          app.processor(command.processor).pause();
          logger.info({ processor: command.processor, from }, 'processor paused by a control command');
          return { ok: true, result: { paused: true } };
        case 'resume':
          app.processor(command.processor).resume();
          logger.info({ processor: command.processor, from }, 'processor resumed by a control command');
          return { ok: true, result: { paused: false } };
        case 'drain':
          logger.info({ processor: command.processor, from }, 'draining processor by a control command');
          await app.processor(command.processor).stop();
          return { ok: true, result: { drained: true } };
      }
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  private async localStatus(): Promise<Omit<NodeReport, 'node' | 'membership' | 'reachable'>> {
    const { app } = this.options;
    const status = app.status();
    let lag: NodeReport['lag'] = [];
    try {
      const metric = await app.metrics.lag.get();
      lag = metric.values.map((v) => ({
        processor: String(v.labels.processor),
        topic: String(v.labels.topic),
        partition: Number(v.labels.partition),
        lag: v.value,
      }));
    } catch {
      // Lag is a nicety of the status; its absence is not an error.
    }
    // A JSON round trip: the supervision tree's errors become plain data.
    return JSON.parse(JSON.stringify({ status, healthy: app.health().ok, supervision: app.supervisionTree(), lag })) as Omit<NodeReport, 'node' | 'membership' | 'reachable'>;
  }

  private forgetOld(): void {
    const now = Date.now();
    for (const [id, entry] of this.executed) {
      if (this.executed.size <= REMEMBER_COMMANDS && now - entry.at < REMEMBER_MS) break;
      this.executed.delete(id);
    }
  }
}
