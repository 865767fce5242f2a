/**
 * The seed's Incident Manager request (001, "Sentinel → Incident Manager Integration"):
 * `POST {endpoint}/api/v1/incidents` with `Authorization: Bearer <apiKey>` and this body.
 *
 * severity: the rule action's `config.severity` (the seed writes `severity: P1` there), else the
 * receiver's severityMap of the alert's severity. remediation_actions: the action's
 * `config.remediation_actions` when given, else generic steps naming the application and detector.
 */
import type { AlertAction, AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { AffectedEntity } from '../../../schemas/anomaly/anomaly-event.js'
import type { AnomalySeverity } from '../../../operators/detectors/severity.js'

export interface IncidentRequest {
  readonly source: 'llm-sentinel'
  readonly incident_type: 'anomaly_detected'
  readonly severity: string
  readonly title: string
  readonly description: string
  readonly metadata: {
    readonly anomaly_id: string
    readonly detector_id: string
    readonly application_id: string | null
    readonly score: number
    readonly timestamp: string
    readonly alert_id: string
    readonly rule_id: string
    readonly anomaly_ids: readonly string[]
  }
  readonly tags: readonly string[]
  readonly affected_entities: readonly AffectedEntity[]
  readonly remediation_actions: readonly string[]
}

export function incidentRequest(alert: AlertEvent, action: AlertAction | null, severityMap: Readonly<Record<AnomalySeverity, string>>): IncidentRequest {
  const anomaly = alert.anomaly
  const application = alert.application_id ?? anomaly.application_id ?? null
  const configured = action?.config.severity
  const entities: AffectedEntity[] = []
  const entity = anomaly.affected_entity
  if (entity && entity.id !== null) entities.push(entity)
  if (application !== null && !(entity?.type === 'application' && entity.id === application)) entities.push({ type: 'application', id: application, name: application })
  const given = action?.config.remediation_actions
  const remediation =
    Array.isArray(given) && given.every((s) => typeof s === 'string')
      ? (given as string[])
      : [
          `Investigate recent changes to ${application ?? 'the affected application'}`,
          `Review the ${anomaly.detector_id} metrics around ${alert.timestamp}`,
          ...(entity?.type === 'user' && entity.id !== null ? [`Check user ${entity.id} for potential abuse`] : []),
        ]
  return {
    source: 'llm-sentinel',
    incident_type: 'anomaly_detected',
    severity: typeof configured === 'string' && configured.length > 0 ? configured : severityMap[alert.severity],
    title: alert.title,
    description: alert.description,
    metadata: {
      anomaly_id: anomaly.anomaly_id,
      detector_id: anomaly.detector_id,
      application_id: application,
      score: anomaly.score,
      timestamp: alert.timestamp,
      alert_id: alert.alert_id,
      rule_id: alert.rule_id,
      anomaly_ids: alert.anomaly_ids,
    },
    tags: [`anomaly:${anomaly.detector_id}`, ...(application === null ? [] : [`application:${application}`])],
    affected_entities: entities,
    remediation_actions: remediation,
  }
}
