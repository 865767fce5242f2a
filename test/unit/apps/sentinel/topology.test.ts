import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { buildSentinelTopology } from '../../../../apps/sentinel/topology.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'

const T0 = Date.UTC(2026, 0, 1)
let n = 0

function response(app: string, at: number, data: Partial<Extract<TelemetryEvent['data'], { latency_ms: number }>>): TelemetryEvent {
  n += 1
  return {
    event_id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    timestamp: new Date(at).toISOString(),
    source: { service: 'llm-observatory', host: 'obs-1' },
    event_type: 'llm.response',
    application_id: app,
    data: { status: 'success', latency_ms: 800, model: 'gpt-4', completion_tokens: 50, total_tokens: 120, cost: 0.01, ...data },
    metadata: { user_id: 'u-1' },
  }
}

test('the default detectors over telemetry: a cost streak and an error burst become anomalies; an invalid event goes to the DLQ', async () => {
  const topology = buildSentinelTopology({ detectors: loadDetectorsConfig(DEFAULT_DETECTORS_PATH) })
  const driver = await TopologyTestDriver.create(topology, { applicationId: 'sentinel-test', errorPolicy: 'dlq' })
  const input = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
  const anomalies = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>(anomalyEventSchema))

  // billing-bot: three calls over $1 in a row (cost-threshold: consecutive 3, > 1.0).
  for (const [i, cost] of [1.5, 2, 0.5, 1.2, 1.1, 3].entries()) await input.pipe(null, response('billing-bot', T0 + i * 1000, { cost }), { timestamp: T0 + i * 1000 })
  // chatbot: 30 answered calls in the first minute, 12 failed (40% > 20%, volume 30 >= 20).
  for (let i = 0; i < 30; i++) await input.pipe(null, response('chatbot', T0 + i * 1000, i % 5 < 2 ? { status: 'error' } : {}), { timestamp: T0 + i * 1000 })
  // Past the window end and its 10s grace: the first minute's ratio becomes final.
  await input.pipe(null, response('chatbot', T0 + 75_000, {}), { timestamp: T0 + 75_000 })
  // Invalid: negative latency. Rejected whole at the source, not seen by any detector.
  await driver.pipeRaw('llm-telemetry', [{ key: null, value: Buffer.from(JSON.stringify(response('chatbot', T0 + 76_000, { latency_ms: -1 }))), timestamp: T0 + 76_000 }])

  const emitted = anomalies.readKeyValues()
  const cost = emitted.filter(([, a]) => a.detector_id === 'cost-threshold')
  assert.equal(cost.length, 1)
  assert.equal(cost[0]?.[0], 'billing-bot')
  assert.equal(cost[0]?.[1].severity, 'critical')
  assert.equal(cost[0]?.[1].application_id, 'billing-bot')
  assert.equal(cost[0]?.[1].context?.window_start, new Date(T0 + 3000).toISOString())

  const errors = emitted.filter(([, a]) => a.detector_id === 'error-rate-burst')
  assert.equal(errors.length, 1)
  assert.equal(errors[0]?.[0], 'chatbot')
  assert.equal(errors[0]?.[1].metrics?.observed_value, 0.4)
  assert.equal(errors[0]?.[1].affected_entity?.type, 'application')

  // The error bursts of the application and of its model too (12 failures in 30 s); no other
  // detector has enough history to judge.
  assert.deepEqual(emitted.map(([, a]) => a.detector_id).sort(), ['application-error-burst', 'cost-threshold', 'error-rate-burst', 'model-error-burst'])
  const dead = driver.deadLetters()
  assert.equal(dead.length, 1)
  assert.match(Object.values(dead[0]?.headers ?? {}).join(' '), /data\.latency_ms: must be a number >= 0/)
  await driver.close()
})
