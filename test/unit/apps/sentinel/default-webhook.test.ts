/**
 * The shipped files with only SENTINEL_WEBHOOK_URL set: an alert of the assembled app reaches that
 * URL through the dispatcher; with nothing set, every delivery is `skipped` and the alert reads
 * `skipped`, not `delivered`.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { type AlertRecord, alertStatus } from '../../../../apps/sentinel/alert-view.js'
import { AlertDispatcher } from '../../../../apps/sentinel/delivery/alert-dispatcher.js'
import type { DeliveryRecord } from '../../../../apps/sentinel/delivery/delivery-record.js'
import { buildSentinelAppTopology, loadSentinelApp } from '../../../../apps/sentinel/sentinel-app.js'
import type { IncomingRecord, OutgoingRecord } from '../../../../runtime/streams-runtime.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import type { AlertEvent } from '../../../../schemas/alert/alert-event.js'
import { alertEventSerde } from '../../../../schemas/alert/alert-event-serde.js'
import { Serdes } from '../../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'
import { type TestReceiver, reply, startReceiver } from './delivery/fixtures.js'

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

/** The alerts the assembled app writes for three costly calls (cost-threshold → critical-anomalies). */
async function alertsOfCostlyCalls(env: NodeJS.ProcessEnv): Promise<{ alerts: AlertEvent[]; app: ReturnType<typeof loadSentinelApp> }> {
  const app = loadSentinelApp({}, env)
  const driver = await TopologyTestDriver.create(buildSentinelAppTopology(app), { applicationId: 'default-webhook-test', startWallClockMs: T0 + 60_000 })
  const input = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
  const output = driver.createOutputTopic('alerts', Serdes.string(), alertEventSerde())
  for (const [i, cost] of [[0, 1.5], [1, 2], [2, 3]] as const) await input.pipe(null, response(i, cost), { timestamp: T0 + i * 1000 })
  const alerts = output.readValues()
  await driver.close()
  return { alerts, app }
}

async function dispatch(app: ReturnType<typeof loadSentinelApp>, alerts: readonly AlertEvent[]): Promise<DeliveryRecord[]> {
  const sent: OutgoingRecord[] = []
  const runtime = { consume: () => Promise.reject(new Error('not used')), send: async (_topic: string, records: readonly OutgoingRecord[]) => void sent.push(...records) }
  const dispatcher = new AlertDispatcher({ receivers: app.receivers, runtime })
  const records: IncomingRecord[] = alerts.map((a, i) => ({ topic: 'alerts', partition: 0, offset: String(i), key: Buffer.from(a.alert_id), value: Buffer.from(JSON.stringify(a)), headers: {}, timestamp: 0 }))
  await dispatcher.handleBatch(records)
  return sent.map((r) => JSON.parse(String(r.value)) as DeliveryRecord)
}

const entry = (alert: AlertEvent, deliveries: readonly DeliveryRecord[]): Pick<AlertRecord, 'alert' | 'deliveries' | 'silenced_at'> => ({ alert, deliveries, silenced_at: null })

let hook: TestReceiver | null = null
after(() => hook?.close())

test('SENTINEL_WEBHOOK_URL alone: the default rules deliver the alert to it, and the alert reads delivered', async () => {
  hook = await startReceiver((_req, _i, res) => reply(res, 200))
  const { alerts, app } = await alertsOfCostlyCalls({ SENTINEL_WEBHOOK_URL: `${hook.url}/hook` })
  assert.equal(alerts.length, 1)
  const [alert] = alerts as [AlertEvent]
  assert.ok(Date.parse(alert.timestamp) >= Date.parse(alert.anomaly.timestamp), `alert at ${alert.timestamp} is not before its anomaly (${alert.anomaly.timestamp})`)
  const deliveries = await dispatch(app, alerts)
  assert.equal(hook.requests.length, 1)
  assert.equal(hook.requests[0]?.url, '/hook')
  assert.equal((JSON.parse(hook.requests[0]!.body) as AlertEvent).alert_id, alert.alert_id)
  assert.deepEqual(deliveries.find((d) => d.receiver === 'sentinel-webhook')?.status, 'success')
  assert.ok(deliveries.filter((d) => d.receiver !== 'sentinel-webhook').every((d) => d.status === 'skipped'), 'the other receivers are off')
  assert.equal(alertStatus(entry(alert, deliveries)), 'delivered')
})

test('no receiver configured: every delivery is skipped and the alert reads skipped', async () => {
  const { alerts, app } = await alertsOfCostlyCalls({})
  const deliveries = await dispatch(app, alerts)
  assert.ok(deliveries.length >= 2)
  assert.ok(deliveries.every((d) => d.status === 'skipped'))
  assert.equal(alertStatus(entry(alerts[0]!, deliveries)), 'skipped')
})
