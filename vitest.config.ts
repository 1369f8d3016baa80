import { defineConfig } from 'vitest/config';

/**
 * Four projects:
 * - unit: no brokers, fast, fully parallel;
 * - package: the packed tarball installed in a new project (test/package/packed.test.ts);
 * - contract and integration: real Kafka and NATS, started (or reused) by test/global-setup.ts,
 *   which leaves them running for the next run (`npm run services:down` stops them).
 *
 * The machine has 2 cores and the broker needs one of them, hence 2 workers at most.
 *
 * `resolve.tsconfigPaths`: `import ... from 'tributary'` (the examples) is src/index.ts, as for
 * tsc and tsx (tsconfig.json "paths"), so the tests need no build.
 */
const resolve = { tsconfigPaths: true };
export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          // test/chaos: the chaos suite's own verifiers (the suite itself runs with `npm run chaos`).
          include: ['test/unit/**/*.test.ts', 'test/chaos/**/*.test.ts'],
          environment: 'node',
          // Generous: property tests of a few thousand runs took 6.5 s on a loaded 2-core machine (vitest's default is 5 s).
          testTimeout: 30_000,
        },
      },
      {
        resolve,
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
        // npm pack, install the tarball in a new project, compile and run an app there.
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        resolve,
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
