import type { TopicPartition } from '../connectors/log.js';

/**
 * The part of the cluster's membership view standby placement reads (the cluster's
 * `MembershipSnapshot` is one): the members with their status and processors, and which node
 * runs each partition's actor.
 */
export interface PlacementView {
  readonly self: string;
  readonly members: ReadonlyArray<{ readonly node: string; readonly status: string; readonly report: { readonly processors: ReadonlyArray<{ readonly id: string }> } }>;
  readonly partitions: ReadonlyArray<{ readonly processor: string; readonly topic: string; readonly partition: number; readonly node: string }>;
}

/** Where this node stands by for one processor: the partitions to follow, and those without an owner in the view. */
export interface StandbyPlacement {
  /** Partitions another live node owns, for which this node is one of the `replicas` next in the ring. */
  readonly standbys: readonly TopicPartition[];
  /**
   * Whether the view names an owner of the partition at all. A partition whose owner vanished
   * (declared down, moving) keeps the standbys it had: that is exactly when one is needed.
   */
  readonly owned: (tp: TopicPartition) => boolean;
}

/**
 * Which partitions of `processor` this node keeps warm standbys of, decided from the cluster's
 * view alone, with no message exchanged: the ring of the members *alive* in the view that run the
 * processor, sorted by node id (code units); a partition owned by node X has as standbys the
 * `replicas` members that follow X in that ring (wrapping; X itself never), or fewer when the ring
 * is smaller. In agreeing views every node computes the same placement; while views differ (a
 * node suspected by some), two nodes may briefly both stand by, which only costs the reads: a
 * standby writes nothing but its own local copies. A rebalance moves owners, and the next view
 * moves the standbys with them.
 *
 * @example
 * standbyPlacement(view, 'totals', 1).standbys; // [{ topic: 'orders', partition: 3 }, ...]
 */
export function standbyPlacement(view: PlacementView, processor: string, replicas: number): StandbyPlacement {
  const ring = view.members
    .filter((m) => (m.status === 'alive' || m.node === view.self) && m.report.processors.some((p) => p.id === processor))
    .map((m) => m.node)
    .sort(byCodeUnits);
  const owners = new Map<string, string>();
  for (const p of view.partitions) if (p.processor === processor) owners.set(`${p.topic}:${p.partition}`, p.node);
  const standbys: TopicPartition[] = [];
  if (replicas > 0 && ring.includes(view.self)) {
    for (const p of view.partitions) {
      if (p.processor !== processor || p.node === view.self) continue;
      if (followers(ring, p.node, replicas).includes(view.self)) standbys.push({ topic: p.topic, partition: p.partition });
    }
  }
  return { standbys, owned: (tp) => owners.has(`${tp.topic}:${tp.partition}`) };
}

/** The `n` members after `owner` in the sorted ring (where `owner` would sit if it is not in it), `owner` excluded. */
function followers(ring: readonly string[], owner: string, n: number): string[] {
  const others = ring.filter((node) => node !== owner);
  let start = others.findIndex((node) => byCodeUnits(node, owner) > 0);
  if (start < 0) start = 0;
  const out: string[] = [];
  for (let i = 0; i < Math.min(n, others.length); i++) out.push(others[(start + i) % others.length]);
  return out;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
