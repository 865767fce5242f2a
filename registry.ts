/** `sentinel-streams/registry`: Avro serdes over a Confluent-compatible Schema Registry, and its client settings. */
export {
  registryAvroSerde,
  RegistryAvroSerde,
  type RegistryAvroSerdeOptions,
  SchemaNotReadyError,
  UnknownSchemaIdError,
  UnpreparedTopicError,
  topicNameStrategy,
  recordNameStrategy,
  topicRecordNameStrategy,
  SUBJECT_NAME_STRATEGIES,
  type SubjectNameStrategy,
  type SubjectNameStrategyName,
  createRegistryClient,
  registryAuthFromEnv,
  type RegistryAuth,
  type RegistryConnection,
} from './schemas/registry/index.js'
export { anomalyEventRegistrySerde } from './schemas/anomaly/anomaly-serdes.js'
export { alertEventRegistrySerde } from './schemas/alert/alert-event-serde.js'
