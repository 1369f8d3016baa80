import type { Logger } from 'pino';
import { z } from 'zod';
import { mergeScans, resolveScan, type PartitionScans, type ResolvedScan, type ScanOptions, type StateScanAnswer } from '../processor/store-scan.js';
import { runtimeOn, type ClusterHost } from './cluster-host.js';
import { ClusterError, NoOwnerError, retriableAskFailure } from './errors.js';
import type { MemberTracker } from './member-tracker.js';
import type { ActorHandler, RemoteActors } from './remote.js';

/** The actor path every node answers store scans on. */
export const SCAN_PATH = 'tributary/scan';

const scanMessage = z
  .object({
    processor: z.string().min(1).max(256),
    name: z.string().min(1).max(256),
    from: z.string().max(4_096).optional(),
    to: z.string().max(4_096).optional(),
    limit: z.number().int().positive(),
  })
  .strict();

const RETRY_MS = 100;

/** Options of {@link ClusterScans}. */
export interface ClusterScansOptions {
  readonly app: ClusterHost;
  readonly nodeId: string;
  readonly tracker: MemberTracker;
  readonly remote: RemoteActors;
  readonly logger: Logger;
}

/**
 * Range and full scans of a store over the whole cluster, scatter-gather: every live node that
 * runs the processor (as its heartbeat says) scans the partitions it runs; the answers are merged
 * by key, each source partition counted once. While some partition has no answer (unassigned,
 * moving in a rebalance, its owner down), the scan asks again every 100 ms until `timeoutMs`, then
 * throws a {@link NoOwnerError} naming the partitions missing: a scan never returns a silently
 * partial answer.
 *
 * @example
 * const { rows } = await node.scan('totals', 'totals', { from: 'c-1', to: 'c-9' });
 */
export class ClusterScans {
  constructor(private readonly options: ClusterScansOptions) {}

  /** The handler registered on {@link SCAN_PATH}: this node's partitions' rows. */
  readonly handler: ActorHandler = (message) => {
    const parsed = scanMessage.safeParse(message);
    if (!parsed.success) throw new ClusterError(`invalid scan: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const { processor, name, ...scan } = parsed.data;
    return Promise.resolve(this.local(processor, name, resolveScan(scan)) ?? { partitions: [], partitionCounts: {} });
  };

  async scan(processor: string, name: string, options: ScanOptions & { timeoutMs?: number } = {}): Promise<StateScanAnswer> {
    const scan = resolveScan(options);
    const timeoutMs = options.timeoutMs ?? 5_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answers: Array<{ node: string; scans: PartitionScans }> = [];
      const local = this.local(processor, name, scan);
      if (local) answers.push({ node: this.options.nodeId, scans: local });
      const failures: string[] = [];
      const runners = this.runnersOf(processor);
      const remote = await Promise.all(runners.map((node) => this.askNode(node, { processor, name, ...scan }, deadline)));
      remote.forEach((answer, i) => {
        if (typeof answer === 'string') failures.push(`${runners[i]}: ${answer}`);
        else answers.push({ node: runners[i], scans: answer });
      });
      if (!local && runners.length === 0) failures.push(`no live node runs processor '${processor}'`);
      const { answer, missing } = mergeScans(answers, scan);
      if (failures.length === 0 && missing.length === 0 && answers.length > 0) return answer;
      if (Date.now() + RETRY_MS > deadline) {
        const why = [missing.length > 0 ? `no answer for partitions ${missing.join(', ')}` : '', ...failures].filter(Boolean).join('; ');
        throw new NoOwnerError(processor, undefined, undefined, `scan of '${name}': ${why || 'no partition answered'} (gave up after ${timeoutMs} ms)`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  private async askNode(node: string, message: z.infer<typeof scanMessage>, deadline: number): Promise<PartitionScans | string> {
    try {
      return await this.options.remote.ask<PartitionScans>({ node, path: SCAN_PATH }, message, { timeoutMs: Math.max(1, deadline - Date.now()) });
    } catch (err) {
      const retriable = retriableAskFailure(err);
      if (retriable !== undefined) return retriable;
      throw err;
    }
  }

  /** This node's partitions' rows, or undefined when it does not run the processor. */
  private local(processor: string, name: string, scan: ResolvedScan): PartitionScans | undefined {
    return runtimeOn(this.options.app, processor)?.scan(name, scan);
  }

  /** Live nodes other than this one whose heartbeat says they run `processor`. */
  private runnersOf(processor: string): string[] {
    return this.options.tracker
      .snapshot()
      .members.filter((m) => !m.self && m.status === 'alive' && m.report.processors.some((p) => p.id === processor))
      .map((m) => m.node);
  }
}
