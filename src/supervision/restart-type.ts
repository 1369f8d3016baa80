/**
 * When a child that ended is started again (OTP's restart types):
 * - `'permanent'`: always, whatever the exit reason;
 * - `'transient'`: only after an abnormal exit (`'failed'`); a `'normal'` or `'shutdown'` exit
 *   leaves it stopped;
 * - `'temporary'`: never; it is removed from the supervisor when it ends, and its exits never
 *   count towards the restart intensity.
 *
 * @example
 * childSpec({ id: 'backfill', restart: 'transient', start: startBackfill }); // restarted only if it fails
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * What a child is, for status pages and snapshots: a worker (an actor, a connection) or a
 * supervisor of its own children.
 *
 * @example
 * const type: ChildType = processorSupervisor.asChild().type; // 'supervisor'
 */
export type ChildType = 'worker' | 'supervisor';
