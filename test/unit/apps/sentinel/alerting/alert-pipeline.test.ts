import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_ALERT_RULES_PATH, loadAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { addAlerting } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../../apps/sentinel/detectors-config.js'
import { addSentinelDetection } from '../../../../../apps/sentinel/topology.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/topology-test-driver.js'
import { alertEventSerde } from '../../../../../schemas/alert/alert-event-serde.js'
import { Serdes } from '../../../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../../schemas/telemetry/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'

const T0 = Date.UTC(2026, 0, 1)

function response(app: string, i: number, cost: number): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    source: { service: 'llm-observatory', host: 'obs-1' },
    event_type: 'llm.response',
    application_id: app,
    data: { status: 'success', latency_ms: 800, model: 'gpt-4', completion_tokens: 50, total_tokens: 120, cost },
    metadata: { user_id: 'u-1' },
  }
}

test('detection and alerting in one topology: the default files turn a cost streak into one critical alert', async () => {
  const detectors = loadDetectorsConfig(DEFAULT_DETECTORS_PATH)
  const rules = loadAlertRulesConfig(DEFAULT_ALERT_RULES_PATH, { knownDetectorIds: detectors.detectors.map((d) => d.id) })
  const builder = new StreamsBuilder()
  const anomalies = [...addSentinelDetection(builder, { detectors }).values()].reduce((all, stream) => all.merge(stream))
  addAlerting(builder, anomalies, { rules })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'sentinel-test' })
  const input = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
  const alerts = driver.createOutputTopic('alerts', Serdes.string(), alertEventSerde())

  // Three streaks of three calls over $1 (cost-threshold: critical anomalies). The second is in
  // another 1-minute window but inside critical-anomalies' 5-minute max_frequency: throttled. The
  // third, 6 minutes on, pages again and reports the suppressed one.
  const calls: [number, number][] = [[0, 1.5], [1, 2], [2, 3], [3, 0.1], [90, 1.2], [91, 1.3], [92, 1.4], [93, 0.1], [400, 5], [401, 5], [402, 5]]
  for (const [second, cost] of calls) await input.pipe(null, response('billing-bot', second, cost), { timestamp: T0 + second * 1000 })
  const sent = alerts.readValues()
  assert.deepEqual(sent.map((a) => [a.timestamp, a.suppressed_count]), [[new Date(T0 + 2000).toISOString(), 0], [new Date(T0 + 402_000).toISOString(), 1]])
  const alert = sent[0]!
  assert.equal(alert.rule_id, 'critical-anomalies')
  assert.equal(alert.severity, 'critical')
  assert.deepEqual(alert.group, { application_id: 'billing-bot', detector_id: 'cost-threshold' })
  assert.equal(alert.anomaly.detector_id, 'cost-threshold')
  assert.deepEqual(alert.actions.map((a) => a.type), ['notification', 'incident', 'webhook'])
  assert.match(alert.title, /^\[CRITICAL\] Critical anomaly: 1 anomaly in 1m \(application billing-bot, detector cost-threshold\)$/)
  await driver.close()
})
