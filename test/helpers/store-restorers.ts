import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogRecord, OutgoingRecord } from '../../src/connectors/log.js';
import { createLogger } from '../../src/observability/logger.js';
import { LmdbStateDir } from '../../src/state/lmdb-state-dir.js';
import type { LoggedStore } from '../../src/state/logged-store.js';

/**
 * How a store's changes come back into a new store: through the changelog (records applied in
 * order), or through an LMDB local copy (records written to it, then the copy loaded). Store
 * tests run against both, so the two backends cannot drift apart.
 */
export interface StoreRestorer {
  readonly name: string;
  /** Takes `from`'s changes into the backend, and returns `into` (a fresh store on LMDB) restored from it. */
  restore<S extends LoggedStore & { takeChanges(): OutgoingRecord[] }>(from: S, into: () => S, existing?: S): Promise<S>;
  close(): Promise<void>;
}

function asRecord(r: OutgoingRecord, offset: number): LogRecord {
  const bytes = (b: Buffer | string | null | undefined) => (b === null || b === undefined ? null : Buffer.from(b as Buffer));
  return { topic: 'store-changelog', partition: 0, offset, key: bytes(r.key), value: bytes(r.value), headers: {}, timestamp: 0 };
}

export function changelogRestorer(): StoreRestorer {
  let offset = 0;
  return {
    name: 'the changelog',
    async restore(from, into, existing) {
      const store = existing ?? into();
      for (const r of from.takeChanges()) store.restore(asRecord(r, offset++));
      store.restored();
      return store;
    },
    async close() {},
  };
}

export function lmdbRestorer(): StoreRestorer {
  const path = mkdtempSync(join(tmpdir(), 'tributary-store-'));
  const dir = new LmdbStateDir(path, 'p', createLogger({ level: 'silent' }));
  const copy = dir.copy({ topic: 'store-changelog', partition: 0 });
  let position = 0;
  return {
    name: 'an LMDB local copy',
    async restore(from, into) {
      const records = from.takeChanges();
      position += records.length;
      await dir.write([{ copy, records, meta: { version: 2, changelog: 'store-changelog', partition: 0, epoch: 1, position } }]);
      const store = into();
      copy.load(store);
      store.restored();
      return store;
    },
    async close() {
      await dir.close();
      rmSync(path, { recursive: true, force: true });
    },
  };
}
