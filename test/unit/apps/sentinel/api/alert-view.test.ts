/** Unit tests of the alert view (apps/sentinel/alert-view.ts): the pure merge and the topology on the TopologyTestDriver. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ALERT_VIEW_STORE, type AlertRecord, type AlertSilence, addAlertView, alertSilenceSerde, alertStatus, applyAlertUpdate } from '../../../../../apps/sentinel/alert-view.js'
import { DEFAULT_ALERT_RULES_PATH, loadAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { addAlerting } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../../apps/sentinel/detectors-config.js'
import { addSentinelDetection } from '../../../../../apps/sentinel/topology.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/index.js'
import { Serdes } from '../../../../../schemas/index.js'
import { telemetryJsonSerde } from '../../../../../schemas/telemetry/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'
import { alertEvent, alertViewDriver, delivery } from './alert-fixtures.js'
import { T0, response } from './fixtures.js'

const DAY = 86_400_000
/** The dispatcher stamps delivery records with its wall clock: months after the (replayed) alerts. */
const WALL = T0 + 300 * DAY

const silence = (id: string, by: string | null, at = WALL): AlertSilence => ({ type: 'silence', alert_id: id, by, note: null, at: new Date(at).toISOString() })

function fold(updates: Parameters<typeof applyAlertUpdate>[1][], viewTime = T0): AlertRecord {
  let entry: AlertRecord | undefined
  for (const update of updates) entry = applyAlertUpdate(entry, update, viewTime)
  return entry!
}

describe('alert view: merging', () => {
  test('deliveries before their alert are kept; the alert joins them and sets the retention time', () => {
    const entry = fold([{ type: 'delivery', delivery: delivery('a', 'ops', 'failed', WALL) }, { type: 'alert', alert: alertEvent('a', T0 + 5000) }], 42)
    assert.equal(entry.alert?.alert_id, 'a')
    assert.deepEqual(entry.deliveries.map((d) => [d.receiver, d.status]), [['ops', 'failed']])
    assert.equal(entry.updated_at, T0 + 5000)
    const orphan = fold([{ type: 'delivery', delivery: delivery('b', 'ops', 'success', WALL) }], 42)
    assert.equal(orphan.alert, null)
    assert.equal(orphan.updated_at, 42, 'an entry without alert is stamped with view time')
  })

  test('deliveries are the latest per receiver; an older copy does not replace a newer outcome', () => {
    const entry = fold([
      { type: 'alert', alert: alertEvent('a', T0) },
      { type: 'delivery', delivery: delivery('a', 'ops', 'failed', WALL) },
      { type: 'delivery', delivery: delivery('a', 'slack', 'success', WALL) },
      { type: 'delivery', delivery: delivery('a', 'ops', 'success', WALL + 1000) },
      { type: 'delivery', delivery: delivery('a', 'slack', 'failed', WALL - 1000) },
    ])
    assert.deepEqual(entry.deliveries.map((d) => [d.receiver, d.status]), [['ops', 'success'], ['slack', 'success']])
  })

  test('a replayed alert keeps deliveries and silence; the first silence stands', () => {
    const entry = fold([
      { type: 'alert', alert: alertEvent('a', T0) },
      silence('a', 'alice'),
      { type: 'delivery', delivery: delivery('a', 'ops', 'success', WALL) },
      silence('a', 'bob', WALL + 1000),
      { type: 'alert', alert: alertEvent('a', T0, { suppressed_count: 3 }) },
    ])
    assert.equal(entry.alert?.suppressed_count, 3)
    assert.equal(entry.silenced_by, 'alice')
    assert.equal(entry.silenced_at, new Date(WALL).toISOString())
    assert.equal(entry.deliveries.length, 1)
  })

  test('status: silenced, pending, failed (failed or circuit_open), delivered (a success, no failure), skipped (nothing sent)', () => {
    const base = { alert: alertEvent('a', T0), deliveries: [], silenced_at: null }
    assert.equal(alertStatus(base), 'pending')
    assert.equal(alertStatus({ ...base, alert: alertEvent('a', T0, { actions: [] }) }), 'skipped', 'a rule without actions sends nothing')
    assert.equal(alertStatus({ ...base, deliveries: [delivery('a', 'ops', 'success', WALL), delivery('a', 'off', 'skipped', WALL)] }), 'delivered')
    assert.equal(alertStatus({ ...base, deliveries: [delivery('a', 'off', 'skipped', WALL), delivery('a', 'pd', 'skipped', WALL)] }), 'skipped', 'every receiver disabled: not delivered')
    assert.equal(alertStatus({ ...base, deliveries: [delivery('a', 'ops', 'success', WALL), delivery('a', 'pd', 'circuit_open', WALL)] }), 'failed')
    assert.equal(alertStatus({ ...base, deliveries: [delivery('a', 'off', 'skipped', WALL), delivery('a', 'pd', 'failed', WALL)] }), 'failed')
    assert.equal(alertStatus({ ...base, deliveries: [delivery('a', 'ops', 'failed', WALL)], silenced_at: 'x' }), 'silenced')
  })
})

describe('alert view: topology', () => {
  test('alerts, deliveries and silences meet by the alert_id they carry, whatever their keys and partition counts', async () => {
    const { driver, alerts, deliveries, view } = await alertViewDriver()
    const silences = driver.createInputTopic('alert-silences', Serdes.string(), alertSilenceSerde())
    await deliveries.pipe('x-1', delivery('x-1', 'ops', 'failed', WALL), { timestamp: WALL })
    await silences.pipe('x-2', silence('x-2', 'carol'), { timestamp: WALL })
    assert.equal((await view()).get('x-1')?.alert, null, 'the early delivery is kept')
    for (const id of ['x-1', 'x-2', 'x-3']) await alerts.pipe(id, alertEvent(id, T0), { timestamp: T0 })
    // Keyed otherwise (or not at all) on the topic: the record's alert_id decides.
    await deliveries.pipe('something-else', delivery('x-3', 'ops', 'success', WALL), { timestamp: WALL })
    await deliveries.pipe(null, delivery('x-3', 'slack', 'success', WALL), { timestamp: WALL })
    await deliveries.pipe(null, delivery('x-3', 'slack', 'failed', WALL, { alert_id: null }), { timestamp: WALL })
    const entries = await view()
    assert.deepEqual([...entries.keys()].sort(), ['x-1', 'x-2', 'x-3'])
    assert.equal(entries.get('x-1')?.alert?.alert_id, 'x-1')
    assert.deepEqual(entries.get('x-1')?.deliveries.map((d) => d.status), ['failed'])
    assert.equal(entries.get('x-2')?.silenced_by, 'carol')
    assert.deepEqual(entries.get('x-3')?.deliveries.map((d) => [d.receiver, d.status]), [['ops', 'success'], ['slack', 'success']])
    assert.equal(driver.deadLetters().length, 0)
    await driver.close()
  })

  test('retention goes by alert times: wall-clock deliveries purge nothing; alerts past retention are purged and not stored', async () => {
    // One partition: view time is per task, as stream time is.
    const { driver, alerts, deliveries, view } = await alertViewDriver({ retentionMs: DAY, purgeIntervalMs: 60_000 }, { alerts: 1, 'alert-deliveries': 1, 'alert-silences': 1 })
    await alerts.pipe('old', alertEvent('old', T0), { timestamp: T0 })
    await deliveries.pipe('old', delivery('old', 'ops', 'success', WALL), { timestamp: WALL })
    await driver.advanceWallClockTime(120_000)
    assert.deepEqual([...(await view()).keys()], ['old'], 'months of wall clock ahead of the alert purge nothing')

    await alerts.pipe('new', alertEvent('new', T0 + 2 * DAY), { timestamp: T0 + 2 * DAY })
    await alerts.pipe('stale', alertEvent('stale', T0 + DAY / 2), { timestamp: T0 + DAY / 2 })
    await deliveries.pipe('orphan', delivery('orphan', 'ops', 'success', WALL), { timestamp: WALL })
    await driver.advanceWallClockTime(120_000)
    assert.deepEqual([...(await view()).keys()].sort(), ['new', 'orphan'], "'old' is purged, 'stale' was never stored")

    await alerts.pipe('newer', alertEvent('newer', T0 + 4 * DAY), { timestamp: T0 + 4 * DAY })
    await driver.advanceWallClockTime(120_000)
    assert.deepEqual([...(await view()).keys()].sort(), ['newer'], 'the orphan (stamped with view time T0 + 2 days) is purged a retention later')
    await driver.close()
  })

  test('bad records on the input topics go to the dead-letter topic, not into the view', async () => {
    const { driver, view } = await alertViewDriver()
    await driver.pipeRaw('alert-silences', [{ key: Buffer.from('a'), value: Buffer.from('{"type":"silence"}') }])
    await driver.pipeRaw('alerts', [{ key: Buffer.from('a'), value: Buffer.from('{"alert_id":"a"}') }])
    assert.equal((await view()).size, 0)
    assert.equal(driver.deadLetters().length, 2)
    await driver.close()
  })
})

test('in one topology with detection and the alert manager, the view holds the alerts it writes', async () => {
  const detectors = loadDetectorsConfig(DEFAULT_DETECTORS_PATH)
  const builder = new StreamsBuilder()
  const anomalies = [...addSentinelDetection(builder, { detectors }).values()].reduce((all, stream) => all.merge(stream))
  addAlerting(builder, anomalies, { rules: loadAlertRulesConfig(DEFAULT_ALERT_RULES_PATH, { knownDetectorIds: detectors.detectors.map((d) => d.id) }) })
  addAlertView(builder)
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'alert-view-app-test' })
  const telemetry = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
  // Three calls over $1 in a row: cost-threshold anomalies, one critical alert.
  for (const [i, cost] of [1.5, 2, 3, 0.1].entries()) {
    const event = response('billing-bot', T0 + i * 1000, 800)
    await telemetry.pipe(null, { ...event, data: { ...event.data, cost } }, { timestamp: T0 + i * 1000 })
  }
  const entries = await driver.readKeyValueStore<string, AlertRecord>(ALERT_VIEW_STORE)
  assert.equal(entries.length, 1)
  const [id, entry] = entries[0]!
  assert.equal(entry.alert?.alert_id, id)
  assert.equal(entry.alert?.rule_id, 'critical-anomalies')
  assert.equal(alertStatus(entry), 'pending', 'no dispatcher ran')
  await driver.close()
})
