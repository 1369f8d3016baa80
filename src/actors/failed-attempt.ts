/** Failed attempts at one offset, kept by whoever restarts the pipeline so they survive restarts. */
export interface FailedAttempt {
  count: number;
  lastError: string;
}
