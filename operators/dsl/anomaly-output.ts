/**
 * What every detector operator puts in its AnomalyEvent besides the verdict: who is affected, which
 * tenant and application, and the deterministic id (detector + key + window or streak start).
 */
import { type AffectedEntity, type AnomalyEvent, type AnomalyEventInput, type DetectorType, type EntityType, MAX_DIMENSION_VALUE_LENGTH, createAnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../schemas/anomaly/anomaly-id.js'

export interface AnomalyOutputOptions<V = unknown> {
  /** `detector_id`: part of every anomaly id, so keep it stable across versions. */
  readonly id: string
  /** `affected_entity.type`; its `id` is the record key. Default: none (affected_entity null). */
  readonly entityType?: EntityType
  /** `tenant_id` / `application_id` of a key (default null). */
  readonly tenantId?: (key: string, value?: V) => string | null
  readonly applicationId?: (key: string, value?: V) => string | null
  /**
   * `dimensions`: the field paths the detector grouped by and the key's values for them, so alerting
   * can group by them (default null). Values longer than MAX_DIMENSION_VALUE_LENGTH are cut to it.
   */
  readonly dimensions?: (key: string, value?: V) => Readonly<Record<string, string>> | null
}

export function checkDetectorId(operator: string, id: unknown): void {
  if (typeof id !== 'string' || id.length === 0) throw new Error(`${operator}: 'id' (the detector_id) must be a non-empty string; it is part of every anomaly id, so keep it stable`)
}

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}

export interface AnomalyFacts {
  readonly key: string
  /** Identifies the window or streak: with id and key it makes anomaly_id. */
  readonly idTime: number
  /** Event time of the detection (ISO in the event), deterministic so a replay emits the same event. */
  readonly detectedAt: number
  readonly detectorType: DetectorType
  readonly severity: AnomalyEventInput['severity']
  readonly score: number
  readonly title: string
  readonly description: string
  readonly metrics: NonNullable<AnomalyEvent['metrics']>
  readonly windowStart: number
  readonly windowEnd: number
  readonly sampleEvents?: string[]
}

export function anomalyEvent<V>(options: AnomalyOutputOptions<V>, facts: AnomalyFacts, value?: V): AnomalyEvent {
  const entity: AffectedEntity | null = options.entityType === undefined ? null : { type: options.entityType, id: facts.key, name: null }
  return createAnomalyEvent({
    anomaly_id: anomalyId(options.id, facts.key, facts.idTime),
    timestamp: iso(facts.detectedAt),
    detector_id: options.id,
    detector_type: facts.detectorType,
    severity: facts.severity,
    score: facts.score,
    tenant_id: options.tenantId?.(facts.key, value) ?? null,
    application_id: options.applicationId?.(facts.key, value) ?? null,
    title: facts.title,
    description: facts.description,
    affected_entity: entity,
    metrics: facts.metrics,
    context: { window_start: iso(facts.windowStart), window_end: iso(facts.windowEnd), sample_events: facts.sampleEvents ?? [] },
    dimensions: boundedDimensions(options.dimensions?.(facts.key, value) ?? null),
  })
}

/** Dimension values cut to MAX_DIMENSION_VALUE_LENGTH: they become alert labels and group keys downstream. */
function boundedDimensions(dimensions: Readonly<Record<string, string>> | null): Readonly<Record<string, string>> | null {
  if (dimensions === null) return null
  const entries = Object.entries(dimensions)
  if (entries.every(([, v]) => v.length <= MAX_DIMENSION_VALUE_LENGTH)) return dimensions
  return Object.fromEntries(entries.map(([k, v]) => [k, v.length <= MAX_DIMENSION_VALUE_LENGTH ? v : v.slice(0, MAX_DIMENSION_VALUE_LENGTH)]))
}
