// The IPC messages between the chaos harness and its workers.

/** Harness → worker. */
export type HarnessMessage =
  /** Arm `count` transient operator failures at seeded random offsets of `stage`. */
  | { readonly type: 'throw'; readonly count: number; readonly stage: 'up' | 'down' | 'both' }
  /** Delay every counts write by `delayMs` (0: back to normal). */
  | { readonly type: 'slow'; readonly delayMs: number };

/** Worker → harness. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  /** A counts write was acknowledged: `n` results, the latest window start among them. */
  | { readonly type: 'out'; readonly maxWs: number; readonly n: number }
  | { readonly type: 'thrown'; readonly stage: 'up' | 'down'; readonly partition: number; readonly offset: number }
  | { readonly type: 'lifecycle'; readonly event: string; readonly processor: string; readonly partition: number; readonly error: string }
  | { readonly type: 'health'; readonly ok: boolean };
