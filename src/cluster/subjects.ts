import { ConfigError } from '../errors.js';

/**
 * A node id or cluster name: one NATS subject token, `[A-Za-z0-9_-]`, 1 to 64 characters (no
 * dots or wildcards, so it cannot reach outside its place in a subject).
 *
 * @example
 * TOKEN_PATTERN.test('worker-1'); // true
 * TOKEN_PATTERN.test('worker.1'); // false
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The NATS subjects of one cluster. Every subject a node publishes on ends with the sender's
 * node id, so a receiver checks the envelope's `from` against it, and NATS permissions can pin
 * each node to its own subjects (publish allow: `tributary.<c>.heartbeat.<me>`,
 * `tributary.<c>.control.<me>`, `tributary.<c>.actor.*.<me>`, plus `_INBOX.>` for replies).
 *
 * | subject | carries |
 * |---|---|
 * | `tributary.<c>.heartbeat.<from>` | heartbeats (every 500 ms) and the graceful-leave notice |
 * | `tributary.<c>.actor.<to>.<from>` | `tell` and `ask` to an actor on node `<to>`; asks are replied to on the NATS inbox |
 * | `tributary.<c>.control.<from>` | control commands (status, pause, resume, drain) to every node; replies on the inbox |
 *
 * @example
 * const s = clusterSubjects('prod');
 * s.heartbeat('worker-1'); // 'tributary.prod.heartbeat.worker-1'
 * s.actor('worker-2', 'worker-1'); // 'tributary.prod.actor.worker-2.worker-1'
 */
export function clusterSubjects(cluster: string) {
  checkToken('cluster', cluster);
  const root = `tributary.${cluster}`;
  return {
    root,
    heartbeat: (from: string) => `${root}.heartbeat.${from}`,
    /** Every node's heartbeats. */
    heartbeats: `${root}.heartbeat.*`,
    actor: (to: string, from: string) => `${root}.actor.${to}.${from}`,
    /** Every actor message to node `to`, whoever sent it. */
    actorInbox: (to: string) => `${root}.actor.${to}.*`,
    control: (from: string) => `${root}.control.${from}`,
    /** Every node's control commands. */
    controls: `${root}.control.*`,
  } as const;
}

/**
 * The subjects of a cluster, as {@link clusterSubjects} builds them.
 *
 * @example
 * const subjects: ClusterSubjects = clusterSubjects('prod');
 * nc.subscribe(subjects.heartbeats);
 */
export type ClusterSubjects = ReturnType<typeof clusterSubjects>;

/**
 * The last token of a subject: the sender's node id on every cluster subject.
 *
 * @example
 * senderOf('tributary.prod.actor.worker-2.worker-1'); // 'worker-1'
 */
export function senderOf(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/**
 * Throws a {@link ConfigError} naming `setting` unless `value` matches {@link TOKEN_PATTERN}.
 *
 * @example
 * checkToken('cluster.nodeId', 'worker-1'); // fine
 * checkToken('cluster.nodeId', 'a.b'); // throws ConfigError
 */
export function checkToken(setting: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !TOKEN_PATTERN.test(value)) {
    throw new ConfigError(setting, `must match ${TOKEN_PATTERN} (letters, digits, '_', '-'; no dots), got ${JSON.stringify(value)}`);
  }
}
