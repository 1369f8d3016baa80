import type { Logger } from 'pino';

/**
 * A supervisor's mailbox: the changes of its tree (start, stop, a child's exit, a backoff
 * elapsed, startChild, terminateChild) run one at a time, in the order they came, like the
 * messages of an OTP supervisor process. A backoff does not hold the others up: its restart
 * is a message of its own, sent when it has elapsed.
 *
 * @example
 * const mailbox = new Mailbox(() => logger, 'node');
 * await mailbox.serial(() => startChildren()); // the caller gets its result or error
 * mailbox.enqueue(() => onExit(child)); // nobody awaits it: an error in it is fatal
 */
export class Mailbox {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: () => Logger,
    /** The supervisor's path now, for the log line of an internal error. */
    private readonly path: () => string,
  ) {}

  /** Runs `op` after every change before it; resolves or rejects as `op` does. */
  serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined); // the caller of `run` gets the error
    return run;
  }

  /** A tree change nobody awaits (an exit, a backoff elapsed): a bug in it must not vanish. */
  enqueue(op: () => Promise<void>): void {
    this.serial(op).catch((err: unknown) => {
      this.log().fatal({ err, supervisor: this.path() }, 'supervisor internal error');
      queueMicrotask(() => {
        throw err; // an uncaught exception: let it crash rather than run an inconsistent tree
      });
    });
  }
}
