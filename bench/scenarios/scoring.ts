/**
 * Scores one scenario's anomalies against its incidents, whatever detector raised them.
 *
 * - A detection of an incident: an anomaly naming the incident's entity (affected_entity, else its
 *   application) detected in [start, end + tolerance]. Time to detect: its timestamp (the event time
 *   it could be emitted at) minus the incident's start.
 * - A consequence: an anomaly naming another entity the incident's calls touched, in the same span
 *   (a model's latency during a user's long-prompt burst); neither a detection nor a false alarm.
 * - A false alarm: every other anomaly.
 * - Alerted: the anomaly passes the filters of a rule of the alert rules file; a Shield block: it
 *   passes a rule with a `shield` action `block`. A block of an entity without an incident at that
 *   time is a false automatic block.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import type { AlertRule } from '../../apps/sentinel/alerting/alert-rules-config.js'
import { RuleMatcher } from '../../apps/sentinel/alerting/rule-matcher.js'
import type { EntityRef, ScenarioIncident } from './incidents.js'

export const TOLERANCE_MS = 10 * 60_000
const KEY_WINDOW_MS = 60_000

export interface IncidentOutcome {
  readonly incident: ScenarioIncident
  readonly detected: boolean
  readonly alerted: boolean
  readonly timeToDetectMs: number | null
  readonly firstDetector: string | null
}

export interface ScenarioScore {
  readonly outcomes: readonly IncidentOutcome[]
  readonly anomalies: number
  readonly explained: number
  readonly falseAlarms: readonly AnomalyEvent[]
  readonly falseBlocks: readonly AnomalyEvent[]
  readonly blocks: number
  /** (entity, minute) pairs with telemetry, over applications, models and users. */
  readonly keyWindows: number
}

function entityOf(anomaly: AnomalyEvent): string | null {
  const e = anomaly.affected_entity
  if (e?.id && e.type) return `${e.type}:${e.id}`
  return anomaly.application_id ? `application:${anomaly.application_id}` : null
}

const ref = (e: EntityRef): string => `${e.type}:${e.id}`

function inSpan(anomaly: AnomalyEvent, incident: ScenarioIncident): boolean {
  const at = Date.parse(anomaly.timestamp)
  return at >= incident.start && at <= incident.end + TOLERANCE_MS
}

/** The rules that block (their shield action is `block`). */
function blockingRules(rules: readonly AlertRule[]): AlertRule[] {
  return rules.filter((r) => r.actions.some((a) => a.type === 'shield' && (a.config as Record<string, unknown> | null)?.action === 'block'))
}

export function keyWindows(events: readonly TelemetryEvent[]): number {
  const seen = new Set<string>()
  for (const e of events) {
    const minute = Math.floor(Date.parse(e.timestamp) / KEY_WINDOW_MS)
    seen.add(`a|${e.application_id}|${minute}`)
    const user = e.metadata?.user_id
    if (user !== undefined) seen.add(`u|${user}|${minute}`)
    if ('model' in e.data && typeof e.data.model === 'string') seen.add(`m|${e.data.model}|${minute}`)
  }
  return seen.size
}

export function scoreScenario(incidents: readonly ScenarioIncident[], anomalies: readonly AnomalyEvent[], events: readonly TelemetryEvent[], rules: readonly AlertRule[]): ScenarioScore {
  const alerting = new RuleMatcher(rules)
  const blocking = new RuleMatcher(blockingRules(rules))
  const explained = new Set<AnomalyEvent>()
  const outcomes = incidents.map((incident): IncidentOutcome => {
    const affected = new Set(incident.affected.map(ref))
    const detections: AnomalyEvent[] = []
    for (const anomaly of anomalies) {
      const entity = entityOf(anomaly)
      if (entity === null || !inSpan(anomaly, incident)) continue
      if (entity === ref(incident.entity)) detections.push(anomaly)
      else if (!affected.has(entity)) continue
      explained.add(anomaly)
    }
    detections.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp))
    const first = detections[0]
    return {
      incident,
      detected: first !== undefined,
      alerted: detections.some((a) => alerting.match(a).length > 0),
      timeToDetectMs: first === undefined ? null : Date.parse(first.timestamp) - incident.start,
      firstDetector: first?.detector_id ?? null,
    }
  })
  const blocks = anomalies.filter((a) => blocking.match(a).length > 0)
  const falseBlocks = blocks.filter((a) => !incidents.some((i) => entityOf(a) === ref(i.entity) && inSpan(a, i)))
  return {
    outcomes,
    anomalies: anomalies.length,
    explained: explained.size,
    falseAlarms: anomalies.filter((a) => !explained.has(a)),
    falseBlocks,
    blocks: blocks.length,
    keyWindows: keyWindows(events),
  }
}
