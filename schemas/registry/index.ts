export { RegistryAvroSerde, registryAvroSerde, type RegistryAvroSerdeOptions } from './registry-avro-serde.js'
export { SchemaNotReadyError, UnknownSchemaIdError, UnpreparedTopicError } from './errors.js'
export {
  isSubjectNameStrategyName,
  recordNameStrategy,
  SUBJECT_NAME_STRATEGIES,
  topicNameStrategy,
  topicRecordNameStrategy,
  type SubjectNameStrategy,
  type SubjectNameStrategyName,
} from './subject-name-strategy.js'
export { frame, peekSchemaId, unframe, WIRE_HEADER_BYTES, type Framed } from './wire-format.js'
export { createRegistryClient, parseBasicAuth, redactedRegistryUrl, registryAuthFromEnv, splitUrlCredentials, type RegistryAuth, type RegistryConnection } from './registry-client.js'
export { withLegacyFormatReads } from './legacy-format-fallback.js'
