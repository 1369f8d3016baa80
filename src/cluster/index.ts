// tributary's cluster layer (NATS): broadcast state. Re-exports only.
export {
  BroadcastState,
  BroadcastError,
  BROADCAST_ENVELOPE_VERSION,
  type BroadcastStateOptions,
  type BroadcastValue,
  type BroadcastRejection,
  type BroadcastEnvelope,
} from './broadcast.js';
