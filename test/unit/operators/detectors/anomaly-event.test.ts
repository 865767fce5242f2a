import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { anomalyEventSchema, anomalyEventType, createAnomalyEvent, type AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'

// avsc decodes records as instances of generated classes; compare their plain data.
const decoded = (e: AnomalyEvent) => JSON.parse(JSON.stringify(anomalyEventType.fromBuffer(anomalyEventType.toBuffer(e)))) as AnomalyEvent

const full: AnomalyEvent = createAnomalyEvent({
  anomaly_id: anomalyId('token-rate-spike', 'chatbot-prod|gpt-4', Date.parse('2025-11-06T12:30:00Z')),
  timestamp: '2025-11-06T12:35:00.000Z',
  detector_id: 'token-rate-spike',
  detector_type: 'statistical',
  severity: 'warning',
  score: 0.87,
  application_id: 'chatbot-prod',
  tenant_id: 'acme-corp',
  title: 'Token rate spike detected',
  description: 'Token processing rate increased by 450% above baseline',
  affected_entity: { type: 'model', id: 'gpt-4', name: 'GPT-4 Turbo' },
  metrics: { baseline_value: 1000, observed_value: 4500, deviation: 3.5, threshold: 3.0 },
  context: { window_start: '2025-11-06T12:30:00.000Z', window_end: '2025-11-06T12:35:00.000Z', sample_events: ['550e8400-e29b-41d4-a716-446655440000'] },
  actions_taken: [{ action: 'alert', target: 'slack-ml-platform', status: 'success', timestamp: '2025-11-06T12:35:01.000Z' }],
})

test("the seed's example event round-trips through Avro", () => {
  assert.deepEqual(decoded(full), full)
})

test('a minimal event (required fields only) round-trips with its defaults', () => {
  const e = createAnomalyEvent({ anomaly_id: anomalyId('d', 'k', 0), timestamp: '2025-01-01T00:00:00.000Z', detector_id: 'd', severity: 'info', score: 0.5 })
  assert.equal(e.status, 'active')
  assert.deepEqual(decoded(e), e)
})

test('an invalid event is refused by the schema; a score outside [0, 1] by the builder', () => {
  assert.equal(anomalyEventType.isValid({ ...full, severity: 'high' }), false)
  assert.throws(() => createAnomalyEvent({ anomaly_id: 'x', timestamp: 't', detector_id: 'd', severity: 'info', score: 1.5 }), /score must be in \[0, 1\]/)
})

test('anomalyId is a v5-style UUID, the same on replay, different for another detector, key or window', () => {
  const id = anomalyId('zscore', 'user-1', 1_700_000_000_000)
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(anomalyId('zscore', 'user-1', 1_700_000_000_000), id)
  assert.notEqual(anomalyId('zscore', 'user-2', 1_700_000_000_000), id)
  assert.notEqual(anomalyId('zscore', 'user-1', 1_700_000_060_000), id)
  assert.notEqual(anomalyId('zscore2', 'user-1', 1_700_000_000_000), id)
  assert.notEqual(anomalyId('a|1:b', 'c', 0), anomalyId('a', 'b|1:c', 0))
})

test('anomaly events with arbitrary content round-trip', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('info', 'warning', 'critical' as const), fc.array(fc.string(), { maxLength: 5 }), (det, key, score, severity, samples) => {
      const e = createAnomalyEvent({ anomaly_id: anomalyId(det, key, 1), timestamp: '2025-01-01T00:00:00.000Z', detector_id: det, severity, score, context: { sample_events: samples } })
      assert.deepEqual(decoded(e), e)
    }),
    { numRuns: 100 },
  )
})

test('AnomalyEvent.avsc and the inlined schema are the same', () => {
  const file = JSON.parse(readFileSync(new URL('../../../../schemas/anomaly/AnomalyEvent.avsc', import.meta.url), 'utf8')) as unknown
  assert.deepEqual(file, anomalyEventSchema)
})
