// tributary's supervision: supervisors, strategies, restart intensity, backoff, dead letters. Re-exports only.
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { DeadLetterHeaders, deadLetterTopic, toDeadLetterRecord, type DeadLetter, type DeadLetterKind } from './dead-letter.js';

export {
  childSpec,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type ChildSpec,
  type ChildSpecOptions,
  type ChildHandle,
  type ChildExit,
  type ChildContext,
  type ChildType,
  type RestartType,
  type StopReason,
} from './child-spec.js';
export {
  supervisorFlags,
  DEFAULT_SUPERVISOR_FLAGS,
  type SupervisorFlags,
  type SupervisorFlagsOptions,
  type Strategy,
} from './supervisor-flags.js';
export { Supervisor } from './supervisor.js';
export type { SupervisorOptions, AsChildOptions } from './supervisor-options.js';
export { SupervisorEventType, type SupervisorEvent, type EscalationPolicy } from './supervisor-event.js';
export type {
  SupervisorSnapshot,
  SupervisorHealth,
  SupervisorState,
  ChildSnapshot,
  ChildInfo,
  ChildState,
  ErrorSummary,
} from './supervisor-snapshot.js';
export { SupervisorEscalatedError, ChildFailedError, PartitionStalledError } from './errors.js';
export { StallDetector, type ProgressSample, type StallVerdict } from './stall-detector.js';
export { countSupervisorEvents } from './count-supervisor-events.js';
export { systemClock, type SupervisorClock } from './clock.js';
export { SimulatedClock } from './simulated-clock.js';
