/**
 * Detector definitions over the API, as versions in the detector config topic that the topology
 * reads as a global table: what applies live (severity, enabled, delete, rollback), what waits for
 * a restart (and says so), refusals that leave the version in force alone, and bad records written
 * straight to the topic that never stop detection.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { parse } from 'yaml'
import { buildSentinelApi } from '../../../../../apps/sentinel/api/index.js'
import { parseDetectorsConfig } from '../../../../../apps/sentinel/detectors-config.js'
import { detectorActionIssues } from '../../../../../apps/sentinel/detector-actions.js'
import { parseReceiversConfig } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { addSentinelDetection } from '../../../../../apps/sentinel/detection.js'
import { TopologyTestDriver, type TestOutputTopic } from '../../../../../runtime/testing/index.js'
import type { AnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'
import { RETRY_AFTER_SECONDS } from '../../../../../apps/sentinel/api/errors.js'
import { DETECTOR_CONFIG_STORE } from '../../../../../apps/sentinel/live-detector-settings.js'
import { DriverRuntime } from './driver-runtime.js'
import { MINUTE, T0, gaugeValue, quietApi, response } from './fixtures.js'

const CONFIG_TOPIC = 'detector-config'
const FILE = `
detectors:
  - id: cost-rule
    type: rule
    strategy: threshold
    groupBy: application
    metric: cost
    condition: greater_than
    value: 1
  - id: latency-rule
    type: rule
    strategy: threshold
    groupBy: application
    metric: latency_ms
    condition: greater_than
    value: 60000
  - id: idle-rule
    type: rule
    strategy: threshold
    groupBy: application
    metric: total_tokens
    condition: greater_than
    value: 50
    enabled: false
`
const COST_RULE = { type: 'rule', strategy: 'threshold', groupBy: 'application', metric: 'cost', condition: 'greater_than', value: 1 }

const RECEIVERS = parseReceiversConfig(
  'receivers:\n  - name: slack-ml\n    type: webhook\n    config: { url: http://127.0.0.1:9/x }\n  - name: shield\n    type: shield\n    config: { endpoint: http://127.0.0.1:9/s, action: block }\n',
  { env: {} },
)

const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>

describe('detector versions', () => {
  let driver: TopologyTestDriver
  let api: ReturnType<typeof buildSentinelApi>
  let anomalies: TestOutputTopic<string, AnomalyEvent>
  let runtime: DriverRuntime
  let n = 0
  const metrics = new Registry()
  const gauge = () => gaugeValue(metrics, 'sentinel_detector_config_version')
  before(async () => {
    const config = parseDetectorsConfig(FILE, 'file.yaml')
    const builder = new StreamsBuilder()
    addSentinelDetection(builder, { detectors: config, anomalyFormat: 'json', detectorConfigTopic: CONFIG_TOPIC, metrics })
    driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'versions-test', errorPolicy: 'dlq' })
    anomalies = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
    runtime = new DriverRuntime(driver, new Set(['llm-telemetry', CONFIG_TOPIC]))
    api = buildSentinelApi({
      runtime,
      detectors: config,
      telemetryTopic: 'llm-telemetry',
      acksTopic: 'acks',
      feedbackTopic: 'feedback',
      detectorConfigTopic: CONFIG_TOPIC,
      checkDetectorActions: (detectors) => detectorActionIssues(detectors, RECEIVERS),
      ...quietApi(),
    })
  })
  after(async () => {
    await api.close()
    await driver.close()
  })

  /** A cheap call (the rule fires once per streak above its bound), then one costing `cost`; the anomalies they made. */
  async function call(cost: number): Promise<AnomalyEvent[]> {
    for (const c of [0.1, cost]) {
      n += 1
      await runtime.send('llm-telemetry', [
        {
          key: 'chatbot',
          value: JSON.stringify(
            response('chatbot', T0 + n * MINUTE, 900, { data: { status: 'success', latency_ms: 900, model: 'gpt-4', total_tokens: 100, cost: c } }),
          ),
        },
      ])
    }
    return anomalies.readValues()
  }
  const versions = async () => json((await api.inject({ method: 'GET', url: '/api/v1/detectors/versions' })).body)

  test('before any change: version 0 is the file, and detection runs as it says', async () => {
    const v = await versions()
    assert.deepEqual([v.current_version, v.applied_version], [0, 0])
    assert.deepEqual(
      (v.versions as { version: number; op: string; detectors: string[] }[]).map((x) => [x.version, x.op, x.detectors]),
      [[0, 'file', ['cost-rule', 'latency-rule', 'idle-rule']]],
    )
    const out = await call(2)
    assert.equal(out.length, 1)
    assert.equal(out[0]?.detector_id, 'cost-rule')
  })

  test('a severity change applies live: the next anomaly carries the new floor', async () => {
    const res = await api.inject({ method: 'PUT', url: '/api/v1/detectors/cost-rule', payload: { ...COST_RULE, severity: 'critical' } })
    assert.equal(res.statusCode, 200, res.body)
    const body = json(res.body)
    assert.deepEqual([body.version, body.op, body.applied, body.applied_live, body.pending_restart], [1, 'update', 'live', true, {}])
    assert.deepEqual(body.changes, [{ detector_id: 'cost-rule', field: 'severity', applied: 'live' }])
    const out = await call(2)
    assert.deepEqual(
      out.map((a) => a.severity),
      ['critical'],
    )
  })

  test('a threshold change applies live: the next record is judged by the new bound, and the gauge shows the version', async () => {
    const res = await api.inject({ method: 'PUT', url: '/api/v1/detectors/cost-rule', payload: { ...COST_RULE, value: 5, severity: 'critical' } })
    assert.equal(res.statusCode, 200, res.body)
    const body = json(res.body)
    assert.deepEqual([body.version, body.applied, body.applied_live, body.pending_restart], [2, 'live', true, {}])
    assert.deepEqual(body.changes, [{ detector_id: 'cost-rule', field: 'threshold', applied: 'live' }])
    assert.equal((await call(2)).length, 0, 'cost 2 is under the new bound 5')
    assert.deepEqual(
      (await call(6)).map((a) => [a.detector_id, a.metrics?.threshold]),
      [['cost-rule', 5]],
    )
    assert.deepEqual([(await versions()).current_version, (await versions()).applied_version], [2, 2])
    assert.equal(await gauge(), 2)
    const file = await api.inject({ method: 'GET', url: '/api/v1/detectors/versions/2/file' })
    assert.equal(file.statusCode, 200)
    const restarted = parseDetectorsConfig(file.body)
    assert.equal(restarted.detectors.find((d) => d.id === 'cost-rule' && 'threshold' in d && d.threshold === 5)?.id, 'cost-rule')
    assert.ok(Array.isArray((parse(file.body) as { detectors: unknown[] }).detectors))
  })

  test('a bad definition is refused with field and fix; the version in force stays', async () => {
    const res = await api.inject({ method: 'PUT', url: '/api/v1/detectors/cost-rule', payload: { ...COST_RULE, condition: 'bigger' } })
    assert.equal(res.statusCode, 422)
    const details = json(res.body).details as { field: string; message: string }[]
    assert.deepEqual(
      details.map((d) => d.field),
      ['condition'],
    )
    assert.match(details[0]!.message, /use greater_than/)
    assert.equal((await versions()).current_version, 2)
    const created = await api.inject({ method: 'POST', url: '/api/v1/detectors', payload: { id: 'new-one', type: 'ml', strategy: 'classifier' } })
    assert.equal(created.statusCode, 422)
    assert.equal((await versions()).current_version, 2)
    assert.equal((await api.inject({ method: 'POST', url: '/api/v1/detectors', payload: { ...COST_RULE, id: 'latency-rule' } })).statusCode, 409)
  })

  test('delete stops its anomalies at once, other detectors go on; rollback brings it back', async () => {
    const del = await api.inject({ method: 'DELETE', url: '/api/v1/detectors/cost-rule' })
    assert.equal(del.statusCode, 200, del.body)
    assert.equal(json(del.body).applied_live, true)
    assert.equal((await call(2)).length, 0)
    n += 1
    await runtime.send('llm-telemetry', [{ key: 'chatbot', value: JSON.stringify(response('chatbot', T0 + n * MINUTE, 90_000)) }])
    assert.deepEqual(
      anomalies.readValues().map((a) => a.detector_id),
      ['latency-rule'],
    )

    const back = await api.inject({ method: 'POST', url: '/api/v1/detectors/rollback/1' })
    assert.equal(back.statusCode, 200, back.body)
    assert.deepEqual([json(back.body).version, json(back.body).op, json(back.body).from_version], [4, 'rollback', 1])
    assert.deepEqual(
      (await call(2)).map((a) => [a.detector_id, a.severity]),
      [['cost-rule', 'critical']],
    )
    // The seed's spelling of the same.
    const list = json((await api.inject({ method: 'GET', url: '/api/v1/config/versions' })).body)
    assert.deepEqual(
      (list.versions as { version: number }[]).map((v) => v.version),
      [0, 1, 2, 3, 4],
    )
    assert.equal((await api.inject({ method: 'POST', url: '/api/v1/config/rollback/0' })).statusCode, 200)
    assert.deepEqual(
      (await call(2)).map((a) => a.severity),
      ['warning'],
    )
  })

  test('garbage written straight to the topic never stops detection', async () => {
    for (const value of [
      'not json',
      JSON.stringify({ version: 99, created_at: 'x', definitions: [{ id: 'cost-rule', strategy: 'nonsense' }] }),
      JSON.stringify({ version: 'x' }),
    ]) {
      await runtime.send(CONFIG_TOPIC, [{ key: 'current', value }])
      assert.equal((await call(2)).length, 1, value)
    }
    assert.equal(driver.deadLetters().length, 0)
    assert.equal((await versions()).applied_version, 0, 'a current that does not parse: the start-up file applies')
    assert.equal(await gauge(), 0)
  })

  test('restart-required fields say so: a new groupBy, and enabling a detector disabled at start (its operator is not running)', async () => {
    const idle = { type: 'rule', strategy: 'threshold', groupBy: 'application', metric: 'total_tokens', condition: 'greater_than', value: 50 }
    const enable = await api.inject({ method: 'PUT', url: '/api/v1/detectors/idle-rule', payload: { ...idle, enabled: true } })
    assert.equal(enable.statusCode, 200, enable.body)
    const body = json(enable.body)
    assert.equal(body.applied, 'restart-required')
    assert.deepEqual(body.changes, [{ detector_id: 'idle-rule', field: 'enabled', applied: 'restart-required' }])
    assert.deepEqual(body.pending_restart, { 'idle-rule': ['enabled'] })
    assert.equal((await call(2)).filter((a) => a.detector_id === 'idle-rule').length, 0, 'tokens 100 > 50, but the rule has no operator until a restart')

    const regroup = await api.inject({ method: 'PUT', url: '/api/v1/detectors/cost-rule', payload: { ...COST_RULE, groupBy: 'model', value: 3 } })
    assert.equal(regroup.statusCode, 200, regroup.body)
    const changes = json(regroup.body).changes as { field: string; applied: string }[]
    assert.deepEqual(
      changes.map((c) => [c.field, c.applied]),
      [
        ['groupBy', 'restart-required'],
        ['threshold', 'live'],
      ],
    )
    assert.equal(json(regroup.body).applied, 'restart-required')
  })

  test("actions apply live; an alert: naming no receiver is refused with the field and the receivers file's names", async () => {
    const current = { ...COST_RULE, groupBy: 'model', value: 3 }
    const refused = await api.inject({ method: 'PUT', url: '/api/v1/detectors/cost-rule', payload: { ...current, actions: [{ alert: 'high-cost-request' }] } })
    assert.equal(refused.statusCode, 422, refused.body)
    const details = json(refused.body).details as { field: string; message: string }[]
    assert.deepEqual(
      details.map((d) => d.field),
      ['actions[0].alert'],
    )
    assert.match(details[0]!.message, /receiver 'high-cost-request' is not defined.*known: slack-ml, shield/)

    const res = await api.inject({
      method: 'PUT',
      url: '/api/v1/detectors/cost-rule',
      payload: { ...current, actions: [{ alert: 'slack-ml' }, { shield: 'block' }] },
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(json(res.body).changes, [{ detector_id: 'cost-rule', field: 'actions', applied: 'live' }])
    // The running operator still groups by application (groupBy waits for a restart): its entity is the application.
    const [anomaly] = (await call(4)).filter((a) => a.detector_id === 'cost-rule')
    assert.deepEqual(
      anomaly?.actions_taken.map((a) => [a.action, a.target, a.status]),
      [
        ['alert', 'slack-ml', 'pending'],
        ['log', `shield block withheld: severity warning is below critical; score ${anomaly?.score.toFixed(2)} is below 0.75`, 'success'],
      ],
    )
  })

  test('while the instance rebuilds its topology (rebalancing), a change waits for the config table; an unreadable table otherwise is a 503 at once', async () => {
    const before = (await versions()).current_version as number
    runtime.restoring.add(DETECTOR_CONFIG_STORE)
    runtime.state = 'rebalancing'
    const rebuilt = setTimeout(() => {
      runtime.restoring.delete(DETECTOR_CONFIG_STORE)
      runtime.state = 'running'
    }, 400)
    try {
      const res = await api.inject({ method: 'PUT', url: '/api/v1/detectors/latency-rule', payload: { ...COST_RULE, metric: 'latency_ms', value: 50000 } })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(json(res.body).version, before + 1)
    } finally {
      clearTimeout(rebuilt)
    }
    runtime.restoring.add(DETECTOR_CONFIG_STORE)
    runtime.state = 'error'
    try {
      const started = Date.now()
      const res = await api.inject({ method: 'GET', url: '/api/v1/detectors/versions' })
      assert.equal(res.statusCode, 503, res.body)
      assert.equal(res.headers['retry-after'], String(RETRY_AFTER_SECONDS))
      assert.ok(Date.now() - started < 1000, 'a failed instance answers at once, not after the wait')
    } finally {
      runtime.restoring.delete(DETECTOR_CONFIG_STORE)
      runtime.state = 'running'
    }
  })
})
