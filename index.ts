/**
 * sentinel-streams: Kafka Streams-like stateful stream processing on kafkajs, for real-time anomaly
 * detection on LLM telemetry. This is the package's root entry, `sentinel-streams`:
 *  - DSL and Processor API (topology/): StreamsBuilder, KStream, KTable, windows, stores
 *  - serdes (schemas/): Serdes.string/json/avro/..., AnomalyEvent
 *  - state (state/): store contracts and engines
 *  - runtimes (runtime/): SentinelStreams on Kafka, StandaloneStreams in one process, and the
 *    StreamsRuntime both implement (interactive queries, send, consume)
 * The other entries: `sentinel-streams/testing` (TopologyTestDriver), `sentinel-streams/detectors`
 * (detector cores and DSL operators), `sentinel-streams/registry` (Schema Registry serdes) and
 * `sentinel-streams/sentinel` (the LLM-Sentinel app). Their reports are in api/; a change to what
 * they export shows there (`npm run api:update`).
 */
// First: kafkajs must load with this project's replacements of some of its modules (see the module).
import './runtime/kafka/kafkajs-replacements.js'
export * from './topology/index.js'
export * from './schemas/index.js'
export { anomalyId } from './schemas/anomaly/anomaly-id.js'
export { anomalyEventAvroSerde } from './schemas/anomaly/anomaly-serdes.js'
export { alertEventSerde } from './schemas/alert/alert-event-serde.js'
export { alertEventSchema } from './schemas/alert/alert-event-avro.js'
export { type AnomalyEvent, anomalyEventSchema, anomalyEventType, createAnomalyEvent } from './schemas/anomaly/anomaly-event.js'
export type { KeyValueStore, SessionStore, StateStore, WindowStore, Windowed, TimeWindow, Session, EngineKind } from './state/types.js'
export { engines, type RocksDBEngineOptions } from './state/index.js'
export { SentinelStreams, TopologyStartError, type SentinelStreamsOptions, type StreamsState, type StateListener } from './runtime/kafka/sentinel-streams.js'
export { ConfigError, type ProcessingGuarantee, type StreamsConfig, type TopicSettings } from './runtime/config.js'
export {
  StoreNotQueryableError,
  type StreamsRuntime,
  type HostInfo,
  type KeyQueryMetadata,
  type ReadOnlyKeyValueStore,
  type ReadOnlyWindowStore,
  type OutgoingRecord,
  type IncomingRecord,
  type ConsumeOptions,
  type BatchHandler,
  type Consumption,
} from './runtime/streams-runtime.js'
export {
  StandaloneStreams,
  type StandaloneStreamsOptions,
  type StandaloneConfig,
  EmbeddedLog,
  type LogRecord,
  type LogRetention,
  pipeJsonLines,
  type JsonLinesOptions,
  type JsonLinesResult,
} from './runtime/standalone/index.js'
export type { TopologyBuildContext, TopologyFactory, TopologyServices, TopologyServicesContext, RunningServices } from './runtime/topology-file.js'
export { InternalTopicError } from './runtime/internal-topics.js'
export type { ProducerConnection } from './runtime/kafka/producer-connection.js'
