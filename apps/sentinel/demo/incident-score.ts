/**
 * Scores detectors against labelled incidents: which incidents were detected, how soon, and which
 * anomalies were false alarms.
 *
 * Matching. An anomaly is about an entity: its `affected_entity` (type and id) when it has one,
 * else its application. It is
 * - a detection of an incident when its detector is one the incident expects, its entity is the
 *   incident's entity, and its window [window_start, window_end] (else its timestamp) overlaps the
 *   incident's span widened by the tolerance: [start, end + tolerance];
 * - a consequence of an incident when, inside the same widened span, it names an entity the
 *   incident's telemetry touched (its users, models, applications) without being a detection, e.g.
 *   the latency of a model rising while a user floods it with long prompts; counted apart, not as a
 *   false alarm;
 * - a false alarm otherwise.
 *
 * Time to detect: the event time from the incident's start to the `timestamp` of its first
 * detection. Sentinel's detectors stamp an anomaly with the event time at which it could be emitted
 * (a window's end plus grace, the record completing a streak, a session's last record plus gap and
 * grace), so this is the delay a live deployment would see, wall-clock lag aside.
 */
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import { type Incident, type IncidentEntity, entityKey } from '../generator/incidents.js'

export interface ScoreOptions {
  /** Widening of an incident's span after its end, ms (default 15 min: windows of 5 min close late, sessions after a 10 min gap). */
  readonly toleranceMs?: number
}

export interface IncidentResult {
  readonly incident: Incident
  readonly detected: boolean
  /** Event time from incident start to the first detection's timestamp, ms; null when not detected. */
  readonly timeToDetectMs: number | null
  /** The detector that detected it first. */
  readonly firstDetector: string | null
  readonly detections: readonly AnomalyEvent[]
  readonly consequences: readonly AnomalyEvent[]
}

export interface IncidentScore {
  readonly incidents: readonly IncidentResult[]
  readonly falseAlarms: readonly AnomalyEvent[]
  readonly anomalies: number
  readonly allDetected: boolean
}

export const DEFAULT_TOLERANCE_MS = 15 * 60_000

/** The entity an anomaly is about: affected_entity when set, else its application; null when neither. */
export function anomalyEntity(anomaly: AnomalyEvent): IncidentEntity | null {
  const entity = anomaly.affected_entity
  if (entity?.id && (entity.type === 'application' || entity.type === 'model' || entity.type === 'user')) return { type: entity.type, id: entity.id }
  if (anomaly.application_id) return { type: 'application', id: anomaly.application_id }
  return null
}

/** The anomaly's span in event time: its window, else its timestamp. */
export function anomalySpan(anomaly: AnomalyEvent): { start: number; end: number } {
  const at = Date.parse(anomaly.timestamp)
  const start = anomaly.context?.window_start ? Date.parse(anomaly.context.window_start) : at
  const end = anomaly.context?.window_end ? Date.parse(anomaly.context.window_end) : at
  return { start, end }
}

function overlaps(anomaly: AnomalyEvent, incident: Incident, toleranceMs: number): boolean {
  const span = anomalySpan(anomaly)
  return span.start <= incident.end + toleranceMs && span.end >= incident.start
}

export function scoreIncidents(incidents: readonly Incident[], anomalies: readonly AnomalyEvent[], options: ScoreOptions = {}): IncidentScore {
  const tolerance = options.toleranceMs ?? DEFAULT_TOLERANCE_MS
  const explained = new Set<AnomalyEvent>()
  const results = incidents.map((incident): IncidentResult => {
    const detections: AnomalyEvent[] = []
    const consequences: AnomalyEvent[] = []
    const affected = new Set(incident.affected.map(entityKey))
    for (const anomaly of anomalies) {
      const entity = anomalyEntity(anomaly)
      if (entity === null || !overlaps(anomaly, incident, tolerance)) continue
      const key = entityKey(entity)
      if (incident.detectors.includes(anomaly.detector_id) && key === entityKey(incident.entity)) detections.push(anomaly)
      else if (affected.has(key)) consequences.push(anomaly)
      else continue
      explained.add(anomaly)
    }
    const first = detections.reduce<AnomalyEvent | null>((best, a) => (best === null || Date.parse(a.timestamp) < Date.parse(best.timestamp) ? a : best), null)
    return {
      incident,
      detected: first !== null,
      timeToDetectMs: first === null ? null : Date.parse(first.timestamp) - incident.start,
      firstDetector: first?.detector_id ?? null,
      detections,
      consequences,
    }
  })
  const falseAlarms = anomalies.filter((a) => !explained.has(a))
  return { incidents: results, falseAlarms, anomalies: anomalies.length, allDetected: results.every((r) => r.detected) }
}

function duration(ms: number | null): string {
  if (ms === null) return '-'
  const sign = ms < 0 ? '-' : ''
  const s = Math.round(Math.abs(ms) / 1000)
  return `${sign}${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19)

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** The summary as fixed-width text: one row per incident, then the false alarms by detector. */
export function formatScore(score: IncidentScore): string {
  const rows = score.incidents.map((r) => [
    r.incident.id,
    `${r.incident.entity.type}:${r.incident.entity.id}`,
    `${clock(r.incident.start)}-${clock(r.incident.end)}`,
    r.detected ? 'yes' : 'NO',
    duration(r.timeToDetectMs),
    r.firstDetector ?? '-',
    String(r.detections.length),
    String(r.consequences.length),
  ])
  const lines = [table(['incident', 'entity', 'span (UTC)', 'detected', 'time to detect', 'first detector', 'anomalies', 'consequences'], rows)]
  const detected = score.incidents.filter((r) => r.detected).length
  lines.push('time to detect: event time from the incident\'s start to the first detecting anomaly (emitted at window end + grace, at the record completing a streak, at the call giving an open session enough evidence, or at session end + gap)')
  lines.push('consequences: anomalies on entities the incident touched, from other detectors (not false alarms)')
  lines.push('', `incidents detected: ${detected}/${score.incidents.length}; anomalies: ${score.anomalies}; false alarms: ${score.falseAlarms.length}`)
  if (score.falseAlarms.length > 0) {
    const byDetector = new Map<string, number>()
    for (const a of score.falseAlarms) byDetector.set(a.detector_id, (byDetector.get(a.detector_id) ?? 0) + 1)
    lines.push(`false alarms by detector: ${[...byDetector].map(([d, n]) => `${d} ${n}`).join(', ')}`)
  }
  return lines.join('\n')
}
