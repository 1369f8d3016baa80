import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// patches/kafkajs+2.2.4.patch, applied by `npm ci` (the `prepare` script runs patch-package).
// kafkajs' RequestQueue scheduled its pending-requests check even with nothing pending and no
// throttling, with the delay -1 - Date.now(): Node ran it after 1 ms, again and again for
// every broker connection, and Node 24 warns `TimeoutNegativeWarning` for each.
const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
};
const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function queue(): InstanceType<typeof RequestQueue> {
  return new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 'test', broker: 'b:9092', logger });
}

describe("kafkajs' request queue, as patched", () => {
  it('schedules no check when nothing is pending and nothing throttles it (no negative timeout)', () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const q = queue();
      q.checkPendingRequests(); // what every fulfilled response does
      expect(q.throttleCheckTimeoutId).toBeNull();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutNegativeWarning');
  });

  it('still schedules the check while throttled, for when the throttle ends', () => {
    const q = queue();
    q.throttledUntil = Date.now() + 60_000;
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(q.throttleCheckTimeoutId!);
  });
});
