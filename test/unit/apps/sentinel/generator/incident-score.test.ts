import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatScore, scoreIncidents } from '../../../../../apps/sentinel/demo/incident-score.js'
import type { Incident } from '../../../../../apps/sentinel/generator/index.js'
import { type AnomalyEvent, createAnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'

const T0 = Date.parse('2026-03-02T09:00:00Z')
const MIN = 60_000
const iso = (ms: number) => new Date(ms).toISOString()

const incidents: Incident[] = [
  { id: 'inc-1-latency-spike', kind: 'latency-spike', description: '', entity: { type: 'model', id: 'm1' }, start: T0, end: T0 + 15 * MIN, detectors: ['latency'], affected: [{ type: 'model', id: 'm1' }, { type: 'application', id: 'app-a' }] },
  { id: 'inc-2-error-burst', kind: 'error-burst', description: '', entity: { type: 'application', id: 'app-b' }, start: T0 + 60 * MIN, end: T0 + 70 * MIN, detectors: ['errors'], affected: [{ type: 'application', id: 'app-b' }] },
]

function anomaly(detector: string, entity: { type: 'model' | 'application' | 'user'; id: string } | null, windowStart: number, windowEnd: number, at: number, app: string | null = null): AnomalyEvent {
  return createAnomalyEvent({
    anomaly_id: `${detector}-${windowStart}`,
    timestamp: iso(at),
    detector_id: detector,
    detector_type: 'statistical',
    severity: 'warning',
    score: 0.6,
    application_id: app,
    affected_entity: entity === null ? null : { ...entity, name: null },
    context: { window_start: iso(windowStart), window_end: iso(windowEnd), sample_events: [] },
  })
}

test('detections, time to detect, consequences and false alarms', () => {
  const anomalies = [
    anomaly('latency', { type: 'model', id: 'm1' }, T0 + 4 * MIN, T0 + 6 * MIN, T0 + 6 * MIN + 10_000),
    anomaly('latency', { type: 'model', id: 'm1' }, T0 + 2 * MIN, T0 + 4 * MIN, T0 + 4 * MIN + 10_000),
    // Another detector on an entity the incident touched, during it: a consequence.
    anomaly('tokens', { type: 'application', id: 'app-a' }, T0 + 5 * MIN, T0 + 10 * MIN, T0 + 10 * MIN),
    // The right detector on the right entity, but long after the incident and its tolerance.
    anomaly('latency', { type: 'model', id: 'm1' }, T0 + 40 * MIN, T0 + 42 * MIN, T0 + 42 * MIN),
    // The right detector on another entity.
    anomaly('errors', { type: 'application', id: 'app-c' }, T0 + 61 * MIN, T0 + 62 * MIN, T0 + 62 * MIN),
  ]
  const score = scoreIncidents(incidents, anomalies)
  const [latency, errors] = score.incidents
  assert.equal(latency!.detected, true)
  assert.equal(latency!.timeToDetectMs, 4 * MIN + 10_000, 'from the incident start to the first detection\'s timestamp')
  assert.equal(latency!.detections.length, 2)
  assert.equal(latency!.consequences.length, 1)
  assert.equal(errors!.detected, false)
  assert.equal(errors!.timeToDetectMs, null)
  assert.deepEqual(score.falseAlarms.map((a) => a.affected_entity?.id), ['m1', 'app-c'])
  assert.equal(score.allDetected, false)
  const text = formatScore(score)
  assert.match(text, /inc-1-latency-spike\s+model:m1\s+09:00:00-09:15:00\s+yes\s+4m10s\s+latency\s+2\s+1/)
  assert.match(text, /inc-2-error-burst .* NO /)
  assert.match(text, /incidents detected: 1\/2; anomalies: 5; false alarms: 2/)
  assert.match(text, /false alarms by detector: latency 1, errors 1/)
})

test('an anomaly without affected_entity is matched by its application; the tolerance widens the span', () => {
  const late = anomaly('errors', null, T0 + 80 * MIN, T0 + 81 * MIN, T0 + 81 * MIN, 'app-b')
  assert.equal(scoreIncidents(incidents, [late]).incidents[1]!.detected, true, 'within the default 15 min tolerance')
  assert.equal(scoreIncidents(incidents, [late], { toleranceMs: 5 * MIN }).falseAlarms.length, 1)
})
