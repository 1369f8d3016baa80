// tributary/testing: the test driver for users' own topologies. Re-exports only; production code never imports it.
export { createTestDriver, TestDriver, type TestDriverOptions, type TestInputOptions, type TestInputTopic, type TestOutputTopic } from './test-driver.js';
export type { TestRecord, OutputRecord, DeadLetterRecord } from './test-records.js';
export { InjectedFailure, type FailureOptions, type InjectedFailures } from './instrument.js';
export { SimulatedClock } from '../supervision/simulated-clock.js';
