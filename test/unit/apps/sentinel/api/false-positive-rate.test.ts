/**
 * False-positive rate per detector from the feedback stored in the anomaly view: in the detectors
 * listing and as `sentinel_false_positive_rate{detector}`. The latest label of an anomaly counts.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { type Instance, MINUTE, T0, anomaly, startInstance, stopInstance } from './fixtures.js'

let it: Instance
before(async () => {
  it = await startInstance()
  const events: [string, AnomalyEvent][] = [
    ['chatbot', anomaly('z-1', T0)],
    ['chatbot', anomaly('z-2', T0 + MINUTE)],
    ['chatbot', anomaly('z-3', T0 + 2 * MINUTE)],
    ['chatbot', anomaly('z-4', T0 + 3 * MINUTE)],
    ['billing', anomaly('c-1', T0 + 4 * MINUTE, { application_id: 'billing', detector_id: 'cost-rule' })],
  ]
  for (const [key, event] of events) await it.anomalies.pipe(key, event, { timestamp: Date.parse(event.timestamp) })
})
after(() => stopInstance(it))

test('the share of labelled anomalies whose latest label is false_positive, per detector; null without feedback', async () => {
  for (const [anomaly_id, label] of [['z-1', 'false_positive'], ['z-2', 'true_positive'], ['z-3', 'false_positive'], ['z-3', 'true_positive'], ['c-1', 'false_positive']] as const) {
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/feedback', payload: { anomaly_id, label } })
    assert.equal(res.statusCode, 202)
  }
  const listing = JSON.parse((await it.api.inject({ method: 'GET', url: '/api/v1/detectors' })).body) as { detectors: { id: string; false_positive_rate: number | null; feedback_count: number }[]; feedback_partial: boolean }
  const of = (id: string) => listing.detectors.find((d) => d.id === id)
  assert.deepEqual([of('latency-z')?.false_positive_rate, of('latency-z')?.feedback_count], [1 / 3, 3], 'z-1 FP, z-2 TP, z-3 relabelled TP; z-4 has none')
  assert.deepEqual([of('cost-rule')?.false_positive_rate, of('cost-rule')?.feedback_count], [1, 1])
  assert.deepEqual([of('latency-ewma')?.false_positive_rate, of('latency-ewma')?.feedback_count], [null, 0])
  assert.equal(listing.feedback_partial, false)

  const exposition = await it.registry.metrics()
  assert.match(exposition, /sentinel_false_positive_rate\{detector="latency-z"\} 0\.333/)
  assert.match(exposition, /sentinel_false_positive_rate\{detector="cost-rule"\} 1\n/)
  assert.doesNotMatch(exposition, /sentinel_false_positive_rate\{detector="latency-ewma"\}/)
})
