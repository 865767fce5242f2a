export * from './telemetry-event.js'
export { telemetryEventAvroType, toAvroRecord, fromAvroRecord } from './telemetry-avro.js'
export { type TelemetryIssue, type TelemetryValidation, TelemetryValidationError, formatIssues, isTelemetryEvent, parseTelemetryEvent, telemetryEventJsonSchema, validateTelemetryEvent } from './telemetry-validator.js'
export { telemetryAvroSerde, telemetryJsonSerde, telemetryRegistrySerde } from './telemetry-serdes.js'
