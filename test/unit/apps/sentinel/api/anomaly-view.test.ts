/** Unit tests of the anomaly view topology (apps/sentinel/anomaly-view.ts) on the TopologyTestDriver. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ANOMALY_VIEW_STORE, type AnomalyAcknowledgement, type AnomalyFeedback, type AnomalyRecord, addAnomalyView, anomalyAcknowledgementSerde, anomalyFeedbackSerde, applyAnomalyUpdate } from '../../../../../apps/sentinel/anomaly-view.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/index.js'
import type { AnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'
import { T0, anomaly } from './fixtures.js'

const DAY = 86_400_000

async function viewDriver(options: Parameters<typeof addAnomalyView>[2] = {}, partitions: Record<string, number> = { anomalies: 3, 'anomaly-acks': 2, 'anomaly-feedback': 1 }, startWallClockMs = T0 + 365 * DAY) {
  const builder = new StreamsBuilder()
  // Keyed by the detector's key, as detectors emit them: the view re-keys by anomaly_id.
  const anomalies = builder.stream('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  addAnomalyView(builder, anomalies, options)
  // By default the wall clock a year after the fixtures' anomalies: view time is capped near it.
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'view-test', partitions, startWallClockMs })
  const view = async (): Promise<Map<string, AnomalyRecord>> => new Map(await driver.readKeyValueStore<string, AnomalyRecord>(ANOMALY_VIEW_STORE))
  return {
    driver,
    view,
    anomalies: driver.createInputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>()),
    acks: driver.createInputTopic('anomaly-acks', Serdes.string(), anomalyAcknowledgementSerde()),
    feedback: driver.createInputTopic('anomaly-feedback', Serdes.string(), anomalyFeedbackSerde()),
  }
}

const ack = (id: string, by: string, at = T0): AnomalyAcknowledgement => ({ type: 'acknowledge', anomaly_id: id, by, note: null, at: new Date(at).toISOString() })
const label = (id: string, value: AnomalyFeedback['label'], at = T0): AnomalyFeedback => ({ type: 'feedback', anomaly_id: id, label: value, comment: null, by: null, at: new Date(at).toISOString() })

describe('anomaly view', () => {
  test('anomalies are stored by anomaly_id whatever their key; an acknowledgement and feedback apply to them', async () => {
    const { driver, view, anomalies, acks, feedback } = await viewDriver()
    await anomalies.pipe('chatbot', anomaly('a-1', T0), { timestamp: T0 })
    await anomalies.pipe('billing', anomaly('a-2', T0 + 1000, { application_id: 'billing' }), { timestamp: T0 + 1000 })
    await acks.pipe('a-1', { ...ack('a-1', 'alice'), note: 'looking' }, { timestamp: T0 })
    await feedback.pipe('a-2', label('a-2', 'false_positive'), { timestamp: T0 + 1000 })
    const entries = await view()
    assert.deepEqual([...entries.keys()].sort(), ['a-1', 'a-2'])
    assert.equal(entries.get('a-1')?.status, 'acknowledged')
    assert.equal(entries.get('a-1')?.acknowledged_by, 'alice')
    assert.equal(entries.get('a-1')?.acknowledgement_note, 'looking')
    assert.equal(entries.get('a-1')?.anomaly?.title, 'anomaly a-1')
    assert.equal(entries.get('a-2')?.status, 'active')
    assert.deepEqual(entries.get('a-2')?.feedback.map((f) => f.label), ['false_positive'])
    await driver.close()
  })

  test('an acknowledgement that arrives before its anomaly is kept and applied when the anomaly comes', async () => {
    const { driver, view, anomalies, acks } = await viewDriver()
    await acks.pipe('early', ack('early', 'bob'), { timestamp: T0 })
    const before = (await view()).get('early')
    assert.equal(before?.anomaly, null)
    assert.equal(before?.acknowledged_by, 'bob')
    await anomalies.pipe('chatbot', anomaly('early', T0 + 5000), { timestamp: T0 + 5000 })
    const after = (await view()).get('early')
    assert.equal(after?.anomaly?.anomaly_id, 'early')
    assert.equal(after?.status, 'acknowledged', 'the early acknowledgement is not lost')
    assert.equal(after?.acknowledged_by, 'bob')
    // A replayed anomaly replaces the event but keeps the acknowledgement.
    await anomalies.pipe('chatbot', anomaly('early', T0 + 5000, { title: 'replayed' }), { timestamp: T0 + 5000 })
    assert.equal((await view()).get('early')?.anomaly?.title, 'replayed')
    assert.equal((await view()).get('early')?.status, 'acknowledged')
    await driver.close()
  })

  test('retention: entries not updated for retentionMs of stream time are purged; records already that old are not stored', async () => {
    // One partition: stream time is per task, and a task purges by its own.
    const { driver, view, anomalies } = await viewDriver({ retentionMs: 2 * DAY, purgeIntervalMs: DAY / 2 }, {})
    await anomalies.pipe('k', anomaly('old', T0), { timestamp: T0 })
    await anomalies.pipe('k', anomaly('recent', T0 + DAY), { timestamp: T0 + DAY })
    assert.deepEqual([...(await view()).keys()].sort(), ['old', 'recent'])
    // Stream time T0 + 2.5 days: 'old' (T0) is past 2 days, 'recent' (T0 + 1 day) is not.
    await anomalies.pipe('k', anomaly('new', T0 + 2.5 * DAY), { timestamp: T0 + 2.5 * DAY })
    assert.deepEqual([...(await view()).keys()].sort(), ['new', 'recent'])
    await anomalies.pipe('k', anomaly('ancient', T0 - DAY), { timestamp: T0 - DAY })
    assert.equal((await view()).has('ancient'), false)
    await driver.close()
  })

  test('an anomaly dated ten years ahead ages nothing: earlier entries stay and later ones are stored', async () => {
    const { driver, view, anomalies } = await viewDriver({ retentionMs: 2 * DAY, purgeIntervalMs: DAY / 2 }, {}, T0 + DAY)
    await anomalies.pipe('k', anomaly('kept', T0), { timestamp: T0 })
    await anomalies.pipe('k', anomaly('from-the-future', T0 + 3650 * DAY), { timestamp: T0 + 3650 * DAY })
    await anomalies.pipe('k', anomaly('later', T0 + DAY), { timestamp: T0 + DAY })
    assert.deepEqual([...(await view()).keys()].sort(), ['from-the-future', 'kept', 'later'])
    await driver.close()
  })

  test('a malformed acknowledgement is a bad record (DLQ), not a corrupt entry', async () => {
    const { driver, view } = await viewDriver()
    await driver.pipeRaw('anomaly-acks', [{ key: Buffer.from('a-1'), value: Buffer.from(JSON.stringify({ type: 'acknowledge', anomaly_id: 'a-1' })), timestamp: T0 }])
    assert.equal(driver.deadLetters().length, 1)
    assert.equal((await view()).size, 0)
    await driver.close()
  })

  test('applyAnomalyUpdate keeps only the latest maxFeedback entries and the latest update time', () => {
    let entry: AnomalyRecord | undefined
    for (let i = 0; i < 5; i++) entry = applyAnomalyUpdate(entry, label('x', i % 2 === 0 ? 'true_positive' : 'false_positive', T0 + i), T0 + 10 - i, 3)
    assert.equal(entry?.feedback.length, 3)
    assert.deepEqual(entry?.feedback.map((f) => f.at), [2, 3, 4].map((i) => new Date(T0 + i).toISOString()))
    assert.equal(entry?.updated_at, T0 + 10)
  })

  test('options are checked', () => {
    const builder = new StreamsBuilder()
    const anomalies = builder.stream('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
    assert.throws(() => addAnomalyView(builder, anomalies, { retentionMs: 0 }), /retentionMs/)
    assert.throws(() => addAnomalyView(builder, anomalies, { maxFeedback: 0 }), /maxFeedback/)
  })
})
