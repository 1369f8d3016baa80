/**
 * A service (Kafka, NATS) could not be provided. The message says what is missing and,
 * when there is one, names the log file to read.
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  /** The log that tells more, if any. */
  readonly logFile: string | undefined;

  constructor(message: string, options: { logFile?: string; cause?: unknown } = {}) {
    super(options.logFile ? `${message}\n  log: ${options.logFile}` : message, { cause: options.cause });
    this.logFile = options.logFile;
  }
}
