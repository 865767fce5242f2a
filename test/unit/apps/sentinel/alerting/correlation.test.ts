/**
 * Correlation (alerting/anomaly-correlation.ts) through the TopologyTestDriver: the alert manager
 * relates anomalies of one application or one model within the window, the anomaly view shows the
 * relation both ways, and the alert view's delivery outcomes become the anomalies' actions_taken.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { addAlertViewWithActions } from '../../../../../apps/sentinel/alert-view.js'
import { alertId as alertIdOf } from '../../../../../apps/sentinel/alerting/alert-id.js'
import { DEFAULT_GROUPING, parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { addAlertManager } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { groupOf } from '../../../../../apps/sentinel/alerting/rule-matcher.js'
import { ANOMALY_VIEW_STORE, type AnomalyRecord, addAnomalyView } from '../../../../../apps/sentinel/anomaly-view.js'
import type { DeliveryRecord } from '../../../../../apps/sentinel/delivery/delivery-record.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/topology-test-driver.js'
import { alertEventSerde } from '../../../../../schemas/alert/alert-event-serde.js'
import { type AnomalyEvent, anomalyEventSchema, createAnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../../schemas/index.js'
import { engines } from '../../../../../state/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'
import { delivery } from '../api/alert-fixtures.js'

const T0 = Date.UTC(2026, 6, 1, 12)
const MIN = 60_000
let n = 0

function anomaly(at: number, over: Partial<AnomalyEvent> = {}): AnomalyEvent {
  n += 1
  return createAnomalyEvent({
    anomaly_id: anomalyId('d', 'k', n),
    timestamp: new Date(at).toISOString(),
    detector_id: 'latency-spike',
    severity: 'critical',
    score: 0.9,
    application_id: 'chatbot',
    ...over,
  })
}

const modelAnomaly = (at: number, model: string): AnomalyEvent => anomaly(at, { application_id: null, detector_id: 'latency-per-model', affected_entity: { type: 'model', id: model, name: null } })

const RULES = `rules:
  - alert_id: each
    name: each
    conditions: { trigger: anomaly }
    actions: [{ type: notification, config: { receivers: [ops] } }, { type: shield, config: { action: block } }]
`

async function harness(correlation: { windowMs: number; maxRelated: number } | null = { windowMs: 10 * MIN, maxRelated: 50 }, driverOptions: Parameters<typeof TopologyTestDriver.create>[1] = {}) {
  const builder = new StreamsBuilder()
  const anomalies = builder.stream('anomalies', { key: Serdes.string(), value: Serdes.avro<AnomalyEvent>(anomalyEventSchema) })
  const { links } = addAlertManager(builder, anomalies, { rules: parseAlertRulesConfig(RULES), correlation })
  const { actionsTaken } = addAlertViewWithActions(builder)
  addAnomalyView(builder, anomalies, { links, actionsTaken })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'correlation-test', ...driverOptions })
  const input = driver.createInputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>(anomalyEventSchema))
  const deliveries = driver.createInputTopic('alert-deliveries', Serdes.string(), Serdes.json<DeliveryRecord>())
  const alerts = driver.createOutputTopic('alerts', Serdes.string(), alertEventSerde())
  const pipe = (a: AnomalyEvent, at = Date.parse(a.timestamp)): Promise<void> => input.pipe(a.application_id ?? 'none', a, { timestamp: at })
  const view = async (): Promise<Map<string, AnomalyRecord>> => new Map(await driver.readKeyValueStore<string, AnomalyRecord>(ANOMALY_VIEW_STORE))
  /** The related ids of each alert's anomaly, by anomaly id. */
  const alerted = (): Map<string, readonly string[]> => new Map(alerts.readValues().map((a) => [a.anomaly.anomaly_id, a.anomaly.context?.related_anomalies ?? []]))
  return { driver, pipe, view, alerted, deliveries }
}

const relatedIn = (view: Map<string, AnomalyRecord>, a: AnomalyEvent): readonly string[] => view.get(a.anomaly_id)?.anomaly?.context?.related_anomalies ?? []

test('same application within the window: the alert of the later one carries the earlier; the view links both ways', async () => {
  const { driver, pipe, view, alerted } = await harness()
  const a = anomaly(T0)
  const b = anomaly(T0 + 4 * MIN, { detector_id: 'error-burst' })
  const other = anomaly(T0 + 5 * MIN, { application_id: 'billing' })
  const late = anomaly(T0 + 15 * MIN) // 11 min after b, 15 after a
  for (const x of [a, b, other, late]) await pipe(x)

  const fromAlerts = alerted()
  assert.deepEqual(fromAlerts.get(a.anomaly_id), [])
  assert.deepEqual(fromAlerts.get(b.anomaly_id), [a.anomaly_id])
  assert.deepEqual(fromAlerts.get(other.anomaly_id), [], 'another application')
  assert.deepEqual(fromAlerts.get(late.anomaly_id), [], 'beyond 10 minutes of both')

  const v = await view()
  assert.deepEqual(relatedIn(v, a), [b.anomaly_id], 'the earlier anomaly learns of the later one')
  assert.deepEqual(relatedIn(v, b), [a.anomaly_id])
  assert.deepEqual(relatedIn(v, other), [])
  assert.deepEqual(relatedIn(v, late), [])
  await driver.close()
})

test('same model (model-level anomalies without application); out of order within the window; a replay adds nothing', async () => {
  const { driver, pipe, view, alerted } = await harness()
  const m1 = modelAnomaly(T0 + 6 * MIN, 'gpt-4')
  const m2 = modelAnomaly(T0, 'gpt-4') // earlier event time, arrives later
  const m3 = modelAnomaly(T0 + 2 * MIN, 'claude')
  await pipe(m1)
  await pipe(m2)
  await pipe(m3)
  await pipe(m2) // replayed: deduplicated before correlation
  const fromAlerts = alerted()
  assert.deepEqual(fromAlerts.get(m2.anomaly_id), [m1.anomaly_id])
  assert.deepEqual(fromAlerts.get(m3.anomaly_id), [])
  const v = await view()
  assert.deepEqual(relatedIn(v, m1), [m2.anomaly_id])
  assert.deepEqual(relatedIn(v, m2), [m1.anomaly_id])
  await driver.close()
})

test('maxRelatedEvents caps the list, keeping the closest in time', async () => {
  const { driver, pipe, alerted } = await harness({ windowMs: 10 * MIN, maxRelated: 3 })
  const earlier = [0, 1, 2, 3, 4].map((m) => anomaly(T0 + m * MIN))
  for (const x of earlier) await pipe(x)
  const last = anomaly(T0 + 5 * MIN)
  await pipe(last)
  assert.deepEqual(alerted().get(last.anomaly_id), earlier.slice(2).map((x) => x.anomaly_id))
  await driver.close()
})

test('off: no related ids, the topology has no correlation stages', async () => {
  const { driver, pipe, alerted } = await harness(null)
  const a = anomaly(T0)
  const b = anomaly(T0 + MIN)
  await pipe(a)
  await pipe(b)
  assert.deepEqual(alerted().get(b.anomaly_id), [])
  await driver.close()
})

test('actions_taken: what the dispatcher did for each alert lands on its anomalies (skipped ones left out), also when the delivery comes first', async () => {
  const { driver, pipe, view, deliveries } = await harness()
  const a = anomaly(T0)
  await pipe(a)
  const alertId = [...(await driver.readKeyValueStore<string, { alert: { alert_id: string; anomaly_ids: string[] } | null }>('alerts-by-id'))][0]![1].alert!.alert_id
  const wall = T0 + 2000
  await deliveries.pipe(alertId, delivery(alertId, 'ops', 'failed', wall), { timestamp: wall })
  await deliveries.pipe(alertId, delivery(alertId, 'ops', 'success', wall + 1000), { timestamp: wall + 1000 })
  await deliveries.pipe(alertId, delivery(alertId, 'shield', 'success', wall + 1000, { type: 'shield', action: 'shield' }), { timestamp: wall + 1000 })
  await deliveries.pipe(alertId, delivery(alertId, 'pd', 'skipped', wall + 1000), { timestamp: wall + 1000 })
  const taken = (await view()).get(a.anomaly_id)?.anomaly?.actions_taken
  assert.deepEqual(taken, [
    { action: 'alert', target: 'ops', status: 'success', timestamp: new Date(wall + 1000).toISOString() },
    { action: 'shield_block', target: 'shield', status: 'success', timestamp: new Date(wall + 1000).toISOString() },
  ])

  // The outcome before its alert (the dispatcher faster than the view): applied when the alert comes.
  const b = anomaly(T0 + MIN, { application_id: 'billing' })
  const early = alertIdOf('each', groupOf({ id: 'each', throttling: { maxFrequencyMs: 0, grouping: DEFAULT_GROUPING } }, b).key, b.anomaly_id)
  await deliveries.pipe(early, delivery(early, 'ops', 'success', wall), { timestamp: wall })
  assert.deepEqual((await view()).get(b.anomaly_id), undefined)
  await pipe(b)
  assert.deepEqual((await view()).get(b.anomaly_id)?.anomaly?.actions_taken, [{ action: 'alert', target: 'ops', status: 'success', timestamp: new Date(wall).toISOString() }])
  await driver.close()
})

test('a restart on the same state directory (RocksDB) keeps what the correlation has seen', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'correlation-restart-'))
  try {
    const a = anomaly(T0)
    const first = await harness(undefined, { engine: engines.rocksdb(), stateDir })
    await first.pipe(a)
    await first.driver.close()
    const second = await harness(undefined, { engine: engines.rocksdb(), stateDir })
    const b = anomaly(T0 + MIN)
    await second.pipe(b)
    assert.deepEqual(second.alerted().get(b.anomaly_id), [a.anomaly_id])
    await second.driver.close()
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
})
