import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { buildSentinelAppTopology, loadSentinelApp } from '../../../apps/sentinel/sentinel-app.js'
import { TopologyTestDriver } from '../../../runtime/testing/topology-test-driver.js'
import { alertEventSerde } from '../../../schemas/alert/alert-event-serde.js'
import { Serdes } from '../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../schemas/telemetry/index.js'

const T0 = Date.UTC(2026, 0, 1)

function response(i: number, cost: number): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    source: { service: 'llm-observatory', host: 'obs-1' },
    event_type: 'llm.response',
    application_id: 'billing-bot',
    data: { status: 'success', latency_ms: 800, model: 'gpt-4', completion_tokens: 50, total_tokens: 120, cost },
  }
}

test('the assembled app: telemetry in, the anomaly in the view store, counted, and alerted on the alerts topic', async () => {
  const metrics = new Registry()
  const app = loadSentinelApp({ sentinel: { topics: { telemetry: 'tele', alerts: 'pages' } } }, {})
  const driver = await TopologyTestDriver.create(buildSentinelAppTopology(app, { metrics }), { applicationId: 'sentinel-app-test' })
  const input = driver.createInputTopic('tele', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
  const alerts = driver.createOutputTopic('pages', Serdes.string(), alertEventSerde())
  for (const [second, cost] of [[0, 1.5], [1, 2], [2, 3]] as const) await input.pipe(null, response(second, cost), { timestamp: T0 + second * 1000 })

  const [alert, ...more] = alerts.readValues()
  assert.equal(more.length, 0)
  assert.equal(alert?.rule_id, 'critical-anomalies')
  const view = await driver.readKeyValueStore<string, { anomaly: { detector_id: string } | null; status: string }>('anomalies-by-id')
  assert.deepEqual(view.map(([id, record]) => [id, record.anomaly?.detector_id, record.status]), [[alert.anomaly.anomaly_id, 'cost-threshold', 'active']])
  const counted = await metrics.getSingleMetric('sentinel_anomalies_detected_total')?.get()
  assert.deepEqual(counted?.values.map((v) => [v.labels, v.value]), [[{ detector: 'cost-threshold', severity: 'critical' }, 1]])
  await driver.close()
})

test('start fails on a bad file, naming it and what is wrong; on a rule naming an unknown receiver too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-app-'))
  const detectors = join(dir, 'detectors.yaml')
  writeFileSync(detectors, 'detectors:\n  - id: x\n    type: statistical\n    strategy: zscore\n')
  assert.throws(() => loadSentinelApp({ sentinel: { detectors } }, {}), (e: unknown) => e instanceof Error && e.message.includes(detectors) && /detector 'x'/.test(e.message))

  const rules = join(dir, 'rules.yaml')
  writeFileSync(rules, 'rules:\n  - alert_id: r\n    name: R\n    conditions: { trigger: anomaly }\n    actions:\n      - type: notification\n        config: { receivers: [nobody] }\n')
  assert.throws(() => loadSentinelApp({ sentinel: { alertRules: rules } }, {}), (e: unknown) => e instanceof Error && /nobody/.test(e.message))
})
