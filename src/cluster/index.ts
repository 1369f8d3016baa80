// tributary's cluster layer (NATS): broadcast state, membership, remote actors, interactive queries, status and control. Re-exports only.
export {
  BroadcastState,
  BroadcastError,
  BROADCAST_ENVELOPE_VERSION,
  type BroadcastStateOptions,
  type BroadcastValue,
  type BroadcastRejection,
  type BroadcastEnvelope,
} from './broadcast.js';
// Membership, remote actors, interactive queries, status and control (ClusterNode ties them together).
export { ClusterNode, type ClusterNodeOptions, type NatsAuth, type NatsTlsOptions, type PartitionActorHandler } from './cluster-node.js';
export { startClusterEndpoint, type ClusterEndpoint, type ClusterEndpointOptions } from './cluster-endpoint.js';
export {
  MemberTracker,
  membershipTimings,
  DEFAULT_MEMBERSHIP_TIMINGS,
  type MemberTrackerOptions,
  type MembershipTimings,
  type MembershipSnapshot,
  type MembershipEvent,
  type Member,
  type MemberStatus,
  type MemberReport,
  type PartitionClaim,
  type PartitionOwner,
  type GroupMembership,
} from './member-tracker.js';
export { MemberEviction, type MemberEvictionOptions, type EvictionEvent, type EvictionReason } from './member-eviction.js';
export { Membership, heartbeatBody, leaveBody, type MembershipOptions, type ReportSource } from './membership.js';
export { RemoteActors, type RemoteActorsOptions, type ActorHandler, type ActorContext, type AskOptions } from './remote.js';
export {
  partitionPath,
  partitionPattern,
  parsePartitionPath,
  handlerMatches,
  isValidPath,
  MAX_PATH_LENGTH,
  type ActorAddress,
} from './actor-address.js';
export { ClusterScans, SCAN_PATH, type ClusterScansOptions } from './scans.js';
export { ClusterQueries, QUERY_PATH, type ClusterQueryAnswer, type QueryOptions, type ClusterQueriesOptions } from './queries.js';
export {
  ClusterControl,
  type ClusterControlOptions,
  type ControlCommand,
  type ControlOptions,
  type ControlOutcome,
  type ControlReply,
  type ClusterStatus,
  type NodeReport,
} from './control.js';
export {
  openEnvelope,
  sealEnvelope,
  newMessageId,
  ENVELOPE_VERSION,
  DEFAULT_MAX_ENVELOPE_BYTES,
  type Envelope,
  type EnvelopeKind,
  type RejectionReason,
  type OpenedEnvelope,
  type OpenEnvelopeOptions,
} from './envelope.js';
export { ClusterRejections } from './rejections.js';
export { subscribeEnvelopes, type InboundOptions } from './inbound.js';
export { clusterSubjects, senderOf, checkToken, TOKEN_PATTERN, type ClusterSubjects } from './subjects.js';
export {
  ClusterError,
  AskTimeoutError,
  UnknownActorError,
  NodeDownError,
  RemoteHandlerError,
  NoOwnerError,
  EnvelopeTooLargeError,
} from './errors.js';
