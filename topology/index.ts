export { StreamsBuilder, type GlobalTableOptions, type SourceOptions, type StreamSourceOptions, type TableSourceOptions } from './streams-builder.js'
export { GlobalKTable } from './global-ktable.js'
export { EventTimeOutOfBoundsError, eventTimeVerdict, type EventTimeBounds, type EventTimeVerdict } from './event-time.js'
export type { DeduplicateOptions } from './processors/deduplicate.js'
export {
  KStream,
  BranchedKStream,
  type GroupedOptions,
  type ProcessOptions,
  type RepartitionOptions,
  type SinkOptions,
  type StreamJoinedOptions,
} from './kstream.js'
export {
  KGroupedStream,
  SessionWindowedKStream,
  SlidingWindowedKStream,
  TimeWindowedKStream,
  type AggregateOptions,
  type WindowedAggregateOptions,
} from './kgrouped-stream.js'
export { BufferConfig, KTable, Suppressed } from './ktable.js'
export type { Named } from './dsl-context.js'
export type { KeyValueMapper, Predicate, ValueMapper } from './processors/stateless.js'
export type { Aggregator, Merger } from './processors/aggregate.js'
export { JoinWindows, TimeWindows, SessionWindows, SlidingWindows } from './windows.js'
export { TimestampExtractors, type ConsumedRecord, type TimestampExtractor } from './time.js'
export {
  Stores,
  type AnyStoreDefinition,
  type KeyValueStoreDefinition,
  type PrefetchMode,
  type PrefetchSourceRecord,
  type SessionStoreDefinition,
  type StoreDefinition,
  type StoreKind,
  type WindowStoreDefinition,
} from './stores.js'
export type {
  Cancellable,
  Processor,
  ProcessorContext,
  ProcessorSupplier,
  PunctuationType,
  Punctuator,
  RecordHeaders,
  RecordMetadata,
  StreamRecord,
} from './processor.js'
export type { StreamPartitioner, TopicNameExtractor, TopicRef, NodeDef, SourceNodeDef, SinkNodeDef, ProcessorNodeDef } from './graph.js'
export {
  Topology,
  type InternalTopicSpec,
  type InternalTopicRole,
  type PartitionRule,
  type GlobalStorePlan,
  type ResolvedPartitions,
  type StorePlan,
  type Subtopology,
  type SubtopologyPlan,
  type SubTopology,
  type SubTopologyPlan,
  type TopologyPlan,
} from './topology.js'
/** @internal The runtimes' partition arithmetic and changelog retention, not for users. */
export { resolvePartitions, CHANGELOG_ADDITIONAL_RETENTION_MS } from './topology.js'
export { type TopologyGeneration, topologyFingerprint, topologyGeneration } from './topology-generation.js'
