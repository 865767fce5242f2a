export { TelemetryGenerator, generateTelemetry, type GeneratorOptions, type GeneratedTelemetry, DEFAULT_START, MIN_HOURS_WITH_INCIDENTS, WARMUP_MINUTES, TAIL_MINUTES } from './telemetry-generator.js'
export { INCIDENT_KINDS, EXPECTED_DETECTORS, entityKey, type Incident, type IncidentKind, type IncidentEntity, type IncidentEntityType } from './incidents.js'
export { APPLICATIONS, MODELS, diurnalFactor, type ApplicationProfile, type ModelProfile } from './catalogue.js'
export { SeededRandom } from './random.js'
