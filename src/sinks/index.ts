export type { Sink, SinkContext } from './sink.js';
export { toTopic, toTopicRecords, type TopicSinkOptions } from './topic-sink.js';
export { toFunction } from './function-sink.js';
export { toNatsSubject, type NatsSinkOptions } from './nats-sink.js';
