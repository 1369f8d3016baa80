import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkaRetriable, lostProducerSession } from '../../../src/connectors/kafka/kafka-errors.js';

// kafkajs' own errors, as its producer throws them (not a mock of the client).
const require = createRequire(import.meta.url);
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };
const { KafkaJSNumberOfRetriesExceeded } = require('kafkajs/src/errors') as { KafkaJSNumberOfRetriesExceeded: new (cause: Error, options: object) => Error };

describe('kafkajs errors as tributary reads them', () => {
  it("knows a lost idempotent session (out-of-order sequence, unknown producer id, invalid epoch), also inside kafkajs' retries-exceeded wrapper", () => {
    for (const code of [45, 59, 47]) {
      expect(lostProducerSession(createErrorFromCode(code)), `code ${code}`).toBe(true);
      expect(lostProducerSession(new KafkaJSNumberOfRetriesExceeded(createErrorFromCode(code), { retryCount: 5, retryTime: 100 })), `wrapped ${code}`).toBe(true);
    }
    expect(lostProducerSession(createErrorFromCode(6))).toBe(false); // NOT_LEADER_OR_FOLLOWER
    expect(lostProducerSession(new Error('socket hang up'))).toBe(false);
  });

  it('judges a broker that is down retriable, through kafkajs giving up on its own retries', () => {
    const leaderMoved = createErrorFromCode(6);
    expect(kafkaRetriable(leaderMoved)).toBe(true);
    expect(kafkaRetriable(new KafkaJSNumberOfRetriesExceeded(leaderMoved, { retryCount: 5, retryTime: 100 }))).toBe(true);
    expect(kafkaRetriable(createErrorFromCode(45))).toBe(false);
  });
});
