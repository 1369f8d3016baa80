import type { Kafka } from 'kafkajs';
import { TributaryError } from '../../errors.js';
import type { GroupEviction, MemberRemoval } from '../log.js';
import { kafkaError } from './kafka-errors.js';

/** The parts of kafkajs' internal `Cluster` and `Broker` that eviction uses (kafkajs 2.x). */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<KafkajsBroker>;
}
interface KafkajsBroker {
  leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
}
type CreateCluster = (options: { allowAutoTopicCreation: boolean; metadataMaxAge?: number }) => KafkajsCluster;

/** Errors after which the coordinator is looked up again and the request retried. */
const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'GROUP_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT']);
/** Errors that mean the member is not in the group (any more): the removal is already done. */
const ALREADY_GONE = new Set(['UNKNOWN_MEMBER_ID', 'GROUP_ID_NOT_FOUND']);

/**
 * Removes *another* client's dynamic members from a consumer group at the group coordinator,
 * so that the group rebalances at once instead of after the member's session timeout.
 *
 * The request is Kafka's LeaveGroup sent with the member's id: what a consumer sends itself
 * when it closes. The coordinator does not check who sends it (only the `Read` ACL on the
 * group), removes the member and starts a rebalance: the remaining members rejoin within their
 * next heartbeat and take its partitions. kafkajs 2.2.4 negotiates LeaveGroup v3 (KIP-345: a
 * list of members, each `member_id` with a null `group.instance.id` for a dynamic member), which
 * Kafka 2.4+ accepts; its public API has no call for it (`admin` has no member removal, and its
 * consumer has no `group.instance.id`, so static membership is not available), so the request
 * goes through kafkajs' own protocol encoder and connection: its internal cluster, reached via
 * the client's `createCluster`, with the same brokers, SASL and TLS as the client.
 *
 * Why it is safe, even when the member is alive (a false suspicion):
 * - the coordinator bumps the group's generation; the removed member's offset commits carry
 *   its old member id and generation and are refused (`UNKNOWN_MEMBER_ID` /
 *   `ILLEGAL_GENERATION`), so it cannot move the offsets of partitions now owned by others;
 * - its next heartbeat, fetch-loop check or commit gets `UNKNOWN_MEMBER_ID`, and kafkajs joins
 *   again as a new member; tributary's group consumer sees the new member id and revokes every
 *   partition it had (a lost assignment: its uncommitted records are replayed by the new owner);
 * - removing a member that is already gone answers `UNKNOWN_MEMBER_ID`: reported as
 *   `already-gone`, so two nodes removing the same member is harmless (idempotent).
 *
 * @example
 * const eviction = new KafkaGroupEviction(kafka);
 * const outcome = await eviction.removeMembers('clicks', ['tributary-1f0c...']);
 * // [{ memberId: 'tributary-1f0c...', outcome: 'removed' }]
 * await eviction.close();
 */
export class KafkaGroupEviction implements GroupEviction {
  private cluster: KafkajsCluster | undefined;
  private connecting: Promise<KafkajsCluster> | undefined;

  constructor(private readonly kafka: Kafka) {}

  /** Connects ahead of need (eviction is then one coordinator look-up and one request). */
  async connect(): Promise<void> {
    await this.connected();
  }

  async removeMembers(groupId: string, memberIds: readonly string[]): Promise<MemberRemoval[]> {
    const results: MemberRemoval[] = [];
    for (const memberId of memberIds) results.push(await this.removeMember(groupId, memberId));
    return results;
  }

  async close(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    this.cluster = undefined;
    if (connecting) await (await connecting.catch(() => undefined))?.disconnect().catch(() => undefined);
  }

  private async removeMember(groupId: string, memberId: string): Promise<MemberRemoval> {
    for (let attempt = 1; ; attempt++) {
      try {
        const cluster = await this.connected();
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        await coordinator.leaveGroup({ groupId, memberId });
        return { memberId, outcome: 'removed' };
      } catch (err) {
        const type = errorType(err);
        if (type !== undefined && ALREADY_GONE.has(type)) return { memberId, outcome: 'already-gone' };
        if (attempt < 4 && (type === undefined || COORDINATOR_MOVED.has(type) || (err as { retriable?: boolean }).retriable === true)) {
          await this.cluster?.refreshMetadata().catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
          continue;
        }
        return { memberId, outcome: 'failed', error: kafkaError(`removing member ${memberId} from group ${groupId}`, err) };
      }
    }
  }

  private connected(): Promise<KafkajsCluster> {
    this.connecting ??= (async () => {
      const cluster = createClusterOf(this.kafka)({ allowAutoTopicCreation: false });
      await cluster.connect();
      this.cluster = cluster;
      return cluster;
    })().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }
}

function errorType(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** kafkajs' client keeps its cluster factory under a private symbol: found by its description. */
function createClusterOf(kafka: Kafka): CreateCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== 'function') {
    throw new TributaryError('kafka: evicting group members needs kafkajs 2.x (its client has no createCluster): check the kafkajs version');
  }
  return create as CreateCluster;
}
