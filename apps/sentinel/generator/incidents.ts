/**
 * Labelled incidents: what the generator injects into otherwise normal traffic, and the ground truth
 * the demo scores the detectors against.
 */

export const INCIDENT_KINDS = ['latency-spike', 'token-rate-spike', 'cost-runaway', 'error-burst', 'jailbreak-burst'] as const
export type IncidentKind = (typeof INCIDENT_KINDS)[number]

export type IncidentEntityType = 'application' | 'model' | 'user'

export interface IncidentEntity {
  readonly type: IncidentEntityType
  readonly id: string
}

export interface Incident {
  /** `inc-1-latency-spike`... */
  readonly id: string
  readonly kind: IncidentKind
  readonly description: string
  /** The entity the incident is about: the one a detector is expected to name. */
  readonly entity: IncidentEntity
  /** Event time (epoch ms) of the first and last affected telemetry. */
  readonly start: number
  readonly end: number
  /** Detector ids expected to catch it (any one of them is a detection). */
  readonly detectors: readonly string[]
  /**
   * Every entity whose telemetry the incident changed (the entity itself, the models and users of
   * the affected calls...). An anomaly another detector raises on one of them during the incident
   * is a consequence of the incident, not a false alarm; the scoring counts it apart.
   */
  readonly affected: readonly IncidentEntity[]
}

/** Which detector of the default detectors file is meant for each kind. */
export const EXPECTED_DETECTORS: Record<IncidentKind, readonly string[]> = {
  'latency-spike': ['latency-spike-per-model', 'model-version-regression'],
  'token-rate-spike': ['token-rate-spike'],
  'cost-runaway': ['cost-threshold'],
  'error-burst': ['error-rate-burst'],
  'jailbreak-burst': ['user-behaviour-anomaly'],
}

export function entityKey(entity: IncidentEntity): string {
  return `${entity.type}:${entity.id}`
}
