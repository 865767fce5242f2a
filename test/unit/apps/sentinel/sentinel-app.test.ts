import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { Registry } from 'prom-client'
import { buildSentinelAppTopology, loadSentinelApp } from '../../../../apps/sentinel/sentinel-app.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { alertEventSerde } from '../../../../schemas/alert/alert-event-serde.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'

const T0 = Date.UTC(2026, 0, 1)

function response(i: number, cost: number, second = i): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + second * 1000).toISOString(),
    source: { service: 'llm-observatory', host: 'obs-1' },
    event_type: 'llm.response',
    application_id: 'billing-bot',
    data: { status: 'success', latency_ms: 800, model: 'gpt-4', completion_tokens: 50, total_tokens: 120, cost },
  }
}

test('the assembled app: telemetry in, the anomaly in the view store, counted, and alerted on the alerts topic', async () => {
  const metrics = new Registry()
  const app = loadSentinelApp({ sentinel: { topics: { telemetry: 'tele', alerts: 'pages' } } }, {})
  // The wall clock just after the calls: the app refuses telemetry far from it.
  const driver = await TopologyTestDriver.create(buildSentinelAppTopology(app, { metrics }), {
    applicationId: 'sentinel-app-test',
    startWallClockMs: T0 + 60_000,
  })
  const input = driver.createInputTopic('tele', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
  const alerts = driver.createOutputTopic('pages', Serdes.string(), alertEventSerde())
  for (const [second, cost] of [
    [0, 1.5],
    [1, 2],
    [2, 3],
  ] as const)
    await input.pipe(null, response(second, cost), { timestamp: T0 + second * 1000 })

  const [alert, ...more] = alerts.readValues()
  assert.equal(more.length, 0)
  assert.equal(alert?.rule_id, 'critical-anomalies')
  const view = await driver.readKeyValueStore<string, { anomaly: { detector_id: string } | null; status: string }>('anomalies-by-id')
  assert.deepEqual(
    view.map(([id, record]) => [id, record.anomaly?.detector_id, record.status]),
    [[alert.anomaly.anomaly_id, 'cost-threshold', 'active']],
  )
  const counted = await metrics.getSingleMetric('sentinel_anomalies_detected_total')?.get()
  assert.deepEqual(
    counted?.values.map((v) => [v.labels, v.value]),
    [[{ detector: 'cost-threshold', severity: 'critical' }, 1]],
  )
  // Detection latency: the wall clock at the read minus the anomaly's event time (here the replayed
  // calls are old, so it is their age).
  const exposition = await metrics.metrics()
  const age = (Date.now() - Date.parse(alert.anomaly.timestamp)) / 1000
  assert.match(exposition, /^sentinel_detection_latency_seconds_count 1$/m)
  const sum = Number(/^sentinel_detection_latency_seconds_sum (\S+)$/m.exec(exposition)?.[1])
  assert.ok(Math.abs(sum - age) < 60, `latency ${sum} s, age ${age} s`)
  assert.match(await metrics.metrics(), /sentinel_detector_latency_seconds_count\{detector="cost-threshold"\} 1/)
  await driver.close()
})

test('start fails on a bad file, naming it and what is wrong; on a rule naming an unknown receiver too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-app-'))
  const detectors = join(dir, 'detectors.yaml')
  writeFileSync(detectors, 'detectors:\n  - id: x\n    type: statistical\n    strategy: zscore\n')
  assert.throws(
    () => loadSentinelApp({ sentinel: { detectors } }, {}),
    (e: unknown) => e instanceof Error && e.message.includes(detectors) && /detector 'x'/.test(e.message),
  )

  const rules = join(dir, 'rules.yaml')
  writeFileSync(
    rules,
    'rules:\n  - alert_id: r\n    name: R\n    conditions: { trigger: anomaly }\n    actions:\n      - type: notification\n        config: { receivers: [nobody] }\n',
  )
  assert.throws(
    () => loadSentinelApp({ sentinel: { alertRules: rules } }, {}),
    (e: unknown) => e instanceof Error && /nobody/.test(e.message),
  )

  writeFileSync(
    rules,
    'routing:\n  - match: { severity: critical }\n    receivers: [slack-incidents, ghost]\nrules:\n  - alert_id: r\n    name: R\n    conditions: { trigger: anomaly }\n',
  )
  assert.throws(
    () => loadSentinelApp({ sentinel: { alertRules: rules } }, {}),
    (e: unknown) => e instanceof Error && /routing\[0\]/.test(e.message) && /ghost/.test(e.message),
  )

  writeFileSync(
    rules,
    'rules:\n  - alert_id: r\n    name: R\n    conditions: { trigger: anomaly }\n    actions:\n      - type: notification\n        config: { receivers: [slack-incidents] }\n',
  )
  // The seed's `alert: <name>` names a receiver here: one that the receivers file lacks fails the start, listing the known ones.
  writeFileSync(
    detectors,
    'detectors:\n  - id: cost\n    type: rule\n    strategy: threshold\n    metric: cost\n    threshold: 1\n    actions:\n      - alert: high-cost-request\n',
  )
  assert.throws(
    () => loadSentinelApp({ sentinel: { detectors, alertRules: rules } }, {}),
    (e: unknown) =>
      e instanceof Error &&
      e.message.includes(detectors) &&
      /detector 'cost', field 'actions\[0\]\.alert': receiver 'high-cost-request' is not defined .*known: sentinel-webhook/.test(e.message),
  )
  writeFileSync(
    detectors,
    'detectors:\n  - id: cost\n    type: rule\n    strategy: threshold\n    metric: cost\n    threshold: 1\n    actions:\n      - alert: slack-incidents\n      - shield: block\n',
  )
  assert.equal(loadSentinelApp({ sentinel: { detectors, alertRules: rules } }, {}).detectors.detectors[0]?.actions.length, 2)
})

describe('input integrity of the assembled app (default settings)', () => {
  const MINUTE = 60_000
  /** Three calls over $1 from `second` on, then a cheap one: one critical anomaly and one alert. */
  const streak = (first: number, second: number): TelemetryEvent[] => [
    ...[0, 1, 2].map((k) => response(first + k, 2 + k, second + k)),
    response(first + 3, 0.01, second + 3),
  ]

  async function runApp(stateDir: string, wallClock: number, batches: readonly (readonly TelemetryEvent[])[]) {
    const app = loadSentinelApp({ sentinel: { topics: { telemetry: 'tele', alerts: 'pages' } } }, {})
    const driver = await TopologyTestDriver.create(buildSentinelAppTopology(app), {
      applicationId: 'sentinel-integrity',
      engine: engines.rocksdb(),
      stateDir,
      startWallClockMs: wallClock,
    })
    // As bytes: the test's own serde would refuse the invalid ones before the app sees them.
    for (const batch of batches)
      await driver.pipeRaw(
        'tele',
        batch.map((event) => ({ key: Buffer.from(event.application_id), value: Buffer.from(JSON.stringify(event)) })),
      )
    const alerts = driver.createOutputTopic('pages', Serdes.string(), alertEventSerde()).readValues()
    const view = await driver.readKeyValueStore<string, { anomaly: { detector_id: string; timestamp: string } | null }>('anomalies-by-id')
    const metrics = driver.metrics()
    await driver.close()
    return { alerts, view: view.filter(([, r]) => r.anomaly !== null).map(([id, r]) => [id, r.anomaly!.detector_id, r.anomaly!.timestamp]), metrics }
  }

  test('a +1 h, a +10 y and a year-0001 event change nothing: a later streak is still detected and the view keeps what it had, also after a restart', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-integrity-'))
    try {
      const wall = T0 + 30 * MINUTE
      const early = streak(100, 0)
      const hostile = [
        { ...response(200, 0.01, 60), timestamp: new Date(T0 + 90 * MINUTE).toISOString() },
        { ...response(201, 0.01, 61), timestamp: new Date(T0 + 3650 * 24 * 60 * MINUTE).toISOString() },
        { ...response(202, 0.01, 62), timestamp: '0001-01-01T00:00:00Z' },
      ]
      const later = streak(300, 600)
      const first = await runApp(stateDir, wall, [early, hostile, later])
      assert.equal(first.alerts.length, 2, 'both streaks alerted: the hostile events closed nothing')
      assert.deepEqual(
        first.view.map(([, detector]) => detector),
        ['cost-threshold', 'cost-threshold'],
      )
      assert.deepEqual(first.metrics.outOfBounds, { ahead: 2, behind: 0 }, 'the two future events were refused by the bounds')
      assert.equal(first.metrics.deadLettered, 3, 'and the year-0001 one by validation')

      // Restarted on the same state, a third streak: the view still holds the earlier anomalies.
      const third = await runApp(stateDir, wall + 10 * MINUTE, [streak(400, 900)])
      assert.equal(third.alerts.length, 1)
      assert.equal(third.view.length, 3)
      for (const entry of first.view)
        assert.ok(
          third.view.some((e) => e[0] === entry[0]),
          `anomaly ${String(entry[0])} kept across the restart`,
        )
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('a batch sent three times gives exactly the anomalies and alerts of one send', async () => {
    const once = mkdtempSync(join(tmpdir(), 'sentinel-once-'))
    const thrice = mkdtempSync(join(tmpdir(), 'sentinel-thrice-'))
    try {
      const batch = streak(100, 0)
      const a = await runApp(once, T0 + 10 * MINUTE, [batch])
      const b = await runApp(thrice, T0 + 10 * MINUTE, [batch, batch, batch])
      assert.ok(a.alerts.length > 0)
      assert.deepEqual(b.alerts, a.alerts)
      assert.deepEqual(b.view, a.view)
      assert.equal(b.metrics.duplicates, 2 * batch.length)
    } finally {
      rmSync(once, { recursive: true, force: true })
      rmSync(thrice, { recursive: true, force: true })
    }
  })
})
