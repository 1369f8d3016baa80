import { TributaryError } from '../errors.js';

/**
 * A changelog record could not be restored (it does not decode with the store's serde): the
 * restore fails loudly, never leaving a silently empty or partial store.
 */
export class RestoreError extends TributaryError {
  constructor(
    readonly store: string,
    readonly origin: { readonly topic: string; readonly partition: number; readonly offset: number },
    cause: unknown,
  ) {
    super(
      `store ${store}: changelog record ${origin.topic}[${origin.partition}]@${origin.offset} does not decode: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/** A store was used wrongly: declared after the pipeline was built, two stores of one name, a value the serde refuses. */
export class StoreError extends TributaryError {}

/**
 * A changelog topic is not what the store needs: another partition count than the input, or
 * not compacted. A start-up error, naming the topic.
 */
export class ChangelogTopicError extends TributaryError {
  constructor(
    readonly topic: string,
    message: string,
  ) {
    super(`changelog topic ${topic}: ${message}`);
  }
}

/**
 * A store filled its memory budget (`storeBudget.maxKeys` of its processor). Permanent: the same
 * input fills it again after a restart, so its supervisors do not restart it but escalate at
 * once (up to the node, which gives up: `/health` fails, or the process exits 1), instead of
 * restoring and failing again every few seconds.
 */
export class StoreBudgetError extends StoreError {
  constructor(
    readonly store: string,
    readonly maxKeys: number,
    what = 'keys',
  ) {
    super(
      `store ${store}: more than ${maxKeys} ${what}, its memory budget: raise the processor's storeBudget.maxKeys, or keep the store on LMDB (stores: 'lmdb', with stateDir), which spills to disk`,
      { permanent: true },
    );
  }
}
