import { isPermanent, TributaryError } from '../errors.js';

/**
 * A supervisor restarted its children more often than its intensity allows (more than
 * `intensity` restarts within `periodMs`), stopped them all and failed. Its `cause` is the error
 * of the child whose failure went over the limit; its parent sees it as that supervisor's failure.
 *
 * @example
 * root.events.subscribe((e) => {
 *   if (e.type === 'supervisor.escalated') console.error(e.error.path, e.error.child, e.error.cause);
 * });
 */
export class SupervisorEscalatedError extends TributaryError {
  constructor(
    /** The path of the supervisor that gave up, e.g. `'node/processor:clicks'`. */
    readonly path: string,
    /** The child whose failure exceeded the intensity. */
    readonly child: string,
    /** Restarts within the period, including the one refused. */
    readonly restarts: number,
    readonly intensity: number,
    readonly periodMs: number,
    cause: Error,
  ) {
    super(
      (isPermanent(cause) ? `supervisor '${path}' escalates a permanent failure (a restart would fail again): ` : `supervisor '${path}' exceeded its restart intensity (${restarts} restarts within ${periodMs} ms, at most ${intensity}): `) +
        `child '${child}': ${cause.message}`,
      { cause },
    );
  }
}

/**
 * A child ended `'failed'` without saying why (its {@link ChildExit} had no `error`), or its
 * `start` rejected with something that is not an `Error`. The supervisor makes one up rather
 * than drop the failure.
 *
 * @example
 * e.type === 'supervisor.child-failed' && e.error instanceof ChildFailedError; // the child gave no error
 */
export class ChildFailedError extends TributaryError {
  constructor(
    readonly path: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`child '${path}' ${message}`, options);
  }
}

/**
 * A partition had pending work and made no progress for `stallTimeoutMs`: nothing it had taken
 * was acknowledged and nothing committed (a sink promise that never settles, an await on a reply
 * that never comes). The watchdog fails the partition actor with it; its supervisor restarts it
 * under the usual intensity and backoff, replaying from the committed offset.
 *
 * @example
 * app.lifecycle.subscribe((e) => e.type === 'partition.failed' && e.error instanceof PartitionStalledError && page(e.error.message));
 */
export class PartitionStalledError extends TributaryError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Records taken and not acknowledged. */
    readonly pending: number,
    /** The oldest of them. */
    readonly firstIncomplete: number,
    readonly committed: number,
    readonly stuckForMs: number,
    /** The sinks with writes not yet acknowledged. */
    readonly waitingOn: readonly string[],
    /** The lowest offset user code holds, if any (results it still owes). */
    readonly heldOffset?: number,
  ) {
    super(
      `partition ${topic}[${partition}] stalled for ${stuckForMs} ms: ${pending} records from offset ${firstIncomplete} not acknowledged` +
        (heldOffset === undefined ? '' : `, offset ${heldOffset} held by the pipeline`) +
        ` (waiting on ${waitingOn.length > 0 ? waitingOn.join(', ') : 'the pipeline'}; committed ${committed})`,
    );
  }
}
