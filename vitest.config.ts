import { defineConfig } from 'vitest/config';

/**
 * Three projects:
 * - unit: no brokers, fast, fully parallel;
 * - contract and integration: real Kafka and NATS, started (or reused) by test/global-setup.ts,
 *   which leaves them running for the next run (`npm run services:down` stops them).
 *
 * The machine has 2 cores and the broker needs one of them, hence 2 workers at most.
 */
export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          // test/chaos: the chaos suite's own verifiers (the suite itself runs with `npm run chaos`).
          include: ['test/unit/**/*.test.ts', 'test/chaos/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
