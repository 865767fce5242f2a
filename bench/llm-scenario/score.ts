/**
 * Scores one run from what the app emitted (its anomalies and alerts topics), knowing nothing of
 * its detectors:
 * - an incident is found by the first anomaly naming its entity (`affected_entity`, else the
 *   application) with an event time in [start, end + 10 min]; time to detect = that time - start;
 *   it is alerted when an alert carries such an anomaly;
 * - an anomaly naming another entity the incident's calls touched, in that span, is a consequence:
 *   neither a detection nor a false alarm; every other anomaly is a false alarm. Incidents overlap
 *   in time (an error burst in an application touches every model it calls, so a model's error
 *   anomaly can land in a drift's span and count for the drift): the first detector is reported
 *   so a reader can see which symptom found it;
 * - a false Shield block is an alert with a `shield` action `block` whose anomaly names an entity
 *   without an incident at that time.
 */
import type { AlertEvent } from '../../schemas/alert/alert-event.js'
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { entityKey, type Incident } from './incidents.js'

export const AFTER_END_MS = 10 * 60_000

export interface IncidentResult {
  readonly incident: Incident
  readonly found: boolean
  readonly alerted: boolean
  readonly ttdS: number | null
  readonly firstDetector: string | null
}

export interface RunScore {
  readonly incidents: readonly IncidentResult[]
  readonly anomalies: number
  readonly falseAlarms: readonly AnomalyEvent[]
  readonly blocks: number
  readonly falseBlocks: readonly AlertEvent[]
  /** (application | model | user, minute) pairs with telemetry. */
  readonly keyWindows: number
}

export function anomalyEntity(a: AnomalyEvent): string | null {
  const e = a.affected_entity
  if (e?.type && e.id) return `${e.type}:${e.id}`
  return a.application_id ? `application:${a.application_id}` : null
}

const within = (a: AnomalyEvent, i: Incident): boolean => {
  const t = Date.parse(a.timestamp)
  return t >= i.start && t <= i.end + AFTER_END_MS
}

export function scoreRun(incidents: readonly Incident[], anomalies: readonly AnomalyEvent[], alerts: readonly AlertEvent[], events: readonly TelemetryEvent[]): RunScore {
  const explained = new Set<AnomalyEvent>()
  const alertedIds = new Set(alerts.flatMap((a) => [a.anomaly.anomaly_id, ...a.anomaly_ids]))
  const results = incidents.map((incident): IncidentResult => {
    const key = entityKey(incident.entity)
    const hits: AnomalyEvent[] = []
    for (const a of anomalies) {
      const entity = anomalyEntity(a)
      if (entity === null || !within(a, incident)) continue
      if (entity === key) hits.push(a)
      else if (!incident.touched.has(entity)) continue
      explained.add(a)
    }
    hits.sort((x, y) => Date.parse(x.timestamp) - Date.parse(y.timestamp))
    const first = hits[0]
    return {
      incident,
      found: first !== undefined,
      alerted: hits.some((a) => alertedIds.has(a.anomaly_id)),
      ttdS: first === undefined ? null : Math.round((Date.parse(first.timestamp) - incident.start) / 1000),
      firstDetector: first?.detector_id ?? null,
    }
  })
  const blocking = alerts.filter((a) => a.actions.some((x) => x.type === 'shield' && x.config.action === 'block'))
  const falseBlocks = blocking.filter((b) => !incidents.some((i) => anomalyEntity(b.anomaly) === entityKey(i.entity) && within(b.anomaly, i)))
  return { incidents: results, anomalies: anomalies.length, falseAlarms: anomalies.filter((a) => !explained.has(a)), blocks: blocking.length, falseBlocks, keyWindows: keyWindows(events) }
}

function keyWindows(events: readonly TelemetryEvent[]): number {
  const seen = new Set<string>()
  for (const e of events) {
    if (e.event_type !== 'llm.request' || !('model' in e.data)) continue
    const minute = Math.floor(Date.parse(e.timestamp) / 60_000)
    seen.add(`a:${e.application_id}:${minute}`)
    seen.add(`m:${e.data.model}:${minute}`)
    if (e.metadata?.user_id !== undefined) seen.add(`u:${e.metadata.user_id}:${minute}`)
  }
  return seen.size
}
