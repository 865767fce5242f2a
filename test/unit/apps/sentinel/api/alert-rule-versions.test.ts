/**
 * Alert rules over the API, as versions in the config topic beside the detectors': a rule change
 * applies live on the running rules stage (filters, aggregation threshold, window size: live-fresh),
 * a change its topology cannot take says restart-required and leaves the rule as it started, bad rules are refused with
 * the rule, field and fix, a rollback restores the earlier behaviour, garbage in the topic never
 * stops alerting; and PUT /api/v1/config: partial bodies, parts read at start refused by name,
 * secrets never echoed.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { addAlerting } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { buildSentinelApi } from '../../../../../apps/sentinel/api/index.js'
import { alertRulesConfigVersionGauge } from '../../../../../apps/sentinel/detector-config-gauge.js'
import { configTable } from '../../../../../apps/sentinel/live-detector-settings.js'
import { TopologyTestDriver, type TestOutputTopic } from '../../../../../runtime/testing/index.js'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'
import { type AnomalyEvent, createAnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../../schemas/index.js'
import { StreamsBuilder, TimestampExtractors } from '../../../../../topology/index.js'
import { DriverRuntime } from './driver-runtime.js'
import { MINUTE, T0, detectors, gaugeValue, quietApi } from './fixtures.js'
import { DEFAULT_RECEIVERS_PATH, loadReceiversConfig } from '../../../../../apps/sentinel/delivery/index.js'
import { checkRuleReferences } from '../../../../../apps/sentinel/sentinel-app.js'

const CONFIG_TOPIC = 'sentinel-config'
const RULES = `
rules:
  - alert_id: critical-only
    name: Critical only
    conditions:
      trigger: anomaly
      filters: { severity: [critical] }
    actions: [{ type: notification, config: { receivers: [slack-incidents] } }]
  - alert_id: bursts
    name: Bursts
    conditions:
      trigger: anomaly
      filters: { detector_ids: [cost-rule] }
      aggregation: { window: 5m, function: count, threshold: 3 }
    actions: [{ type: webhook, config: { url: "https://user:hunter2@hooks.example/x" } }]
`
const CRITICAL_ONLY = {
  name: 'Critical only',
  conditions: { trigger: 'anomaly', filters: { severity: ['critical'] } },
  actions: [{ type: 'notification', config: { receivers: ['slack-incidents'] } }],
}

const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>

describe('alert rule versions', () => {
  const metrics = new Registry()
  const gauge = () => gaugeValue(metrics, 'sentinel_alert_rules_config_version')
  let n = 0
  let runtime: DriverRuntime
  let alerts: TestOutputTopic<string, AlertEvent>
  let api: ReturnType<typeof buildSentinelApi>
  let driver: TopologyTestDriver
  const effective = { application_id: 'test', sentinel: { api: { port: 8080 } }, receivers: [{ name: 'slack', type: 'slack' }], detectors: {}, alert_rules: {} }

  before(async () => {
    const rules = parseAlertRulesConfig(RULES, { source: 'rules.yaml' })
    const receivers = loadReceiversConfig(DEFAULT_RECEIVERS_PATH, {})
    const builder = new StreamsBuilder()
    const anomalies = builder.stream('anomalies', {
      key: Serdes.string(),
      value: Serdes.json<AnomalyEvent>(),
      timestamp: TimestampExtractors.isoField<AnomalyEvent>('timestamp'),
    })
    addAlerting(builder, anomalies, {
      rules,
      live: { table: configTable(builder, CONFIG_TOPIC), onApplied: alertRulesConfigVersionGauge(metrics) },
      alertsTopic: 'alerts',
      alertSerde: Serdes.json<AlertEvent>(),
    })
    driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'rule-versions-test' })
    alerts = driver.createOutputTopic('alerts', Serdes.string(), Serdes.json<AlertEvent>())
    runtime = new DriverRuntime(driver, new Set(['anomalies', CONFIG_TOPIC]))
    api = buildSentinelApi({
      runtime,
      detectors: detectors(),
      telemetryTopic: 'llm-telemetry',
      acksTopic: 'acks',
      feedbackTopic: 'feedback',
      detectorConfigTopic: CONFIG_TOPIC,
      alertRules: {
        config: rules,
        knownDetectorIds: ['cost-rule'],
        checkReferences: (config) => checkRuleReferences(receivers, config),
      },
      effectiveConfig: effective,
      ...quietApi(),
    })
  })
  after(async () => {
    await api.close()
    await driver.close()
  })

  /** Anomalies of cost-rule with `severity`, one a minute; the alerts they made. */
  async function anomalies(count: number, severity: AnomalyEvent['severity']): Promise<AlertEvent[]> {
    for (let i = 0; i < count; i++) {
      n += 1
      const at = T0 + n * MINUTE * 10
      const anomaly = createAnomalyEvent({
        anomaly_id: anomalyId('cost-rule', 'chatbot', n),
        timestamp: new Date(at).toISOString(),
        detector_id: 'cost-rule',
        severity,
        score: 0.9,
        application_id: 'chatbot',
        title: 'Cost',
        description: 'Cost above the bound',
      })
      await runtime.send('anomalies', [{ key: 'chatbot', value: JSON.stringify(anomaly) }])
    }
    return alerts.readValues()
  }
  const inject = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
    const res = await api.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
    return { status: res.statusCode, body: json(res.body), raw: res.body }
  }
  const versions = async () => (await inject('GET', '/api/v1/alert-rules/versions')).body

  test('version 0 is the rules file; a warning alerts nobody, a critical one alerts critical-only', async () => {
    const v = await versions()
    assert.deepEqual([v.current_version, v.applied_version], [0, 0])
    assert.deepEqual((v.versions as { rules: string[] }[])[0]?.rules, ['critical-only', 'bursts'])
    assert.deepEqual(
      (await anomalies(1, 'warning')).map((a) => a.rule_id),
      [],
    )
    assert.deepEqual(
      (await anomalies(1, 'critical')).map((a) => a.rule_id),
      ['critical-only'],
    )
  })

  test('a filter change applies live: the next warning alerts, and every instance reports the version', async () => {
    const res = await inject('PUT', '/api/v1/alert-rules/critical-only', {
      ...CRITICAL_ONLY,
      conditions: { trigger: 'anomaly', filters: { severity: ['warning', 'critical'] } },
    })
    assert.equal(res.status, 200, res.raw)
    assert.deepEqual([res.body.version, res.body.op, res.body.rule_id, res.body.applied], [1, 'update', 'critical-only', 'live'])
    assert.deepEqual(res.body.changes, [{ rule_id: 'critical-only', field: 'filters', applied: 'live' }])
    assert.deepEqual(
      (await anomalies(1, 'warning')).map((a) => a.rule_id),
      ['critical-only'],
    )
    const v = await versions()
    assert.deepEqual([v.current_version, v.applied_version], [1, 1])
    assert.equal(await gauge(), 1)
    // The detectors' versions are apart: the alert rules' keys do not show there.
    assert.equal(json((await api.inject({ method: 'GET', url: '/api/v1/detectors/versions' })).body).current_version, 0)
  })

  test('a bad rule is refused naming the rule, the field and the fix; the version in force stays', async () => {
    const res = await inject('PUT', '/api/v1/alert-rules/bursts', {
      name: 'Bursts',
      conditions: { trigger: 'anomaly', filters: { detector_ids: ['cost-rule'] }, aggregation: { window: '5m', function: 'count', threshold: 0 } },
      actions: [{ type: 'webhook' }],
    })
    assert.equal(res.status, 422, res.raw)
    const issues = res.body.details as { rule: string; field: string; message: string }[]
    assert.deepEqual(
      issues.map((i) => [i.rule, i.field]),
      [['bursts', 'conditions.aggregation.threshold']],
    )
    assert.match(issues[0]!.message, /integer >= 1/)
    const unknownDetector = await inject('PUT', '/api/v1/alert-rules/bursts', {
      name: 'Bursts',
      conditions: { trigger: 'anomaly', filters: { detector_ids: ['nope'] } },
      actions: [{ type: 'webhook' }],
    })
    assert.equal(unknownDetector.status, 422)
    assert.match(String(unknownDetector.body.message), /'nope' is not a detector/)
    const unknownReceiver = await inject('PUT', '/api/v1/alert-rules/critical-only', {
      ...CRITICAL_ONLY,
      actions: [{ type: 'notification', config: { receivers: ['nobody'] } }],
    })
    assert.equal(unknownReceiver.status, 422, unknownReceiver.raw)
    assert.match(String(unknownReceiver.body.message), /rule 'critical-only'.*nobody/)
    assert.equal((await versions()).current_version, 1)
  })

  test('an aggregation threshold applies live; a new window size applies live-fresh; one beyond the window store is restart-required', async () => {
    const burst = (threshold: number, window = '5m') => ({
      name: 'Bursts',
      conditions: { trigger: 'anomaly', filters: { detector_ids: ['cost-rule'] }, aggregation: { window, function: 'count', threshold } },
      actions: [{ type: 'webhook' }],
    })
    const lowered = await inject('PUT', '/api/v1/alert-rules/bursts', burst(1))
    assert.equal(lowered.status, 200, lowered.raw)
    assert.equal(lowered.body.applied, 'live')
    assert.deepEqual(
      (await anomalies(1, 'info')).map((a) => a.rule_id),
      ['bursts'],
      'one anomaly is enough now',
    )

    const widened = await inject('PUT', '/api/v1/alert-rules/bursts', burst(1, '7m'))
    assert.equal(widened.status, 200, widened.raw)
    assert.equal(widened.body.applied, 'live-fresh')
    assert.deepEqual(widened.body.changes, [{ rule_id: 'bursts', field: 'aggregation', applied: 'live-fresh' }])
    assert.deepEqual(widened.body.pending_restart, {})
    const fresh = await anomalies(1, 'info')
    assert.deepEqual(
      fresh.map((a) => [a.rule_id, Date.parse(a.aggregation!.window_end) - Date.parse(a.aggregation!.window_start)]),
      [['bursts', 7 * MINUTE]],
      'the rule runs with its new window at once',
    )

    const tooLong = await inject('PUT', '/api/v1/alert-rules/bursts', burst(1, '2h'))
    assert.equal(tooLong.status, 200, tooLong.raw)
    assert.equal(tooLong.body.applied, 'restart-required')
    assert.deepEqual(tooLong.body.pending_restart, { bursts: ['aggregation'] })
    assert.deepEqual((await versions()).pending_restart, { bursts: ['aggregation'] })
    assert.deepEqual(
      (await anomalies(1, 'info')).map((a) => a.rule_id),
      [],
      'the rule runs as it started (5m, threshold 3) until a restart: the window store keeps windows up to 1h',
    )
  })

  test('rollback restores an earlier version: warnings stop alerting again', async () => {
    const res = await inject('POST', '/api/v1/alert-rules/rollback/0')
    assert.equal(res.status, 200, res.raw)
    // Back to the 5m window from 2h: the rule starts fresh.
    assert.deepEqual([res.body.op, res.body.from_version, res.body.applied], ['rollback', 0, 'live-fresh'])
    assert.deepEqual(
      (await anomalies(1, 'warning')).map((a) => a.rule_id),
      [],
    )
    const v = await versions()
    assert.equal(v.applied_version, v.current_version)
    assert.equal(await gauge(), v.current_version)
    // The exported file leaves secrets out (a webhook URL's credentials).
    const file = await api.inject({ method: 'GET', url: `/api/v1/alert-rules/versions/0/file` })
    assert.equal(file.statusCode, 200)
    assert.ok(!file.body.includes('hunter2'), file.body)
  })

  test('garbage written straight to the topic never stops alerting: the start-up rules apply', async () => {
    await runtime.send(CONFIG_TOPIC, [{ key: 'alert-rules/current', value: JSON.stringify({ version: 99, created_at: 'x', definitions: [{ alert_id: 42 }] }) }])
    assert.deepEqual(
      (await anomalies(1, 'critical')).map((a) => a.rule_id),
      ['critical-only'],
    )
    assert.equal((await versions()).applied_version, 0)
    assert.equal(await gauge(), 0)
  })

  describe('PUT /api/v1/config', () => {
    test('a part read at start is refused by name, nothing written; an unknown part is refused', async () => {
      const before = (await versions()).versions as unknown[]
      const res = await inject('PUT', '/api/v1/config', { sentinel: { api: { port: 9090 } }, alert_rules: { rules: [] } })
      assert.equal(res.status, 409, res.raw)
      assert.equal(res.body.error, 'restart-required')
      assert.deepEqual((res.body.details as { restart_required: string[] }).restart_required, ['sentinel'])
      assert.equal(((await versions()).versions as unknown[]).length, before.length)
      assert.equal((await inject('PUT', '/api/v1/config', { features: {} })).status, 400)
    })

    test('a partial body changes the parts it carries; what GET shows may be sent back unchanged; secrets are not echoed', async () => {
      const rules = parseAlertRulesConfig(RULES).document as { rules: Record<string, unknown>[] }
      const edited = {
        ...rules,
        rules: rules.rules.map((r) => (r.alert_id === 'critical-only' ? { ...r, conditions: { trigger: 'anomaly', filters: { severity: ['warning'] } } } : r)),
      }
      const res = await inject('PUT', '/api/v1/config', { application_id: 'test', sentinel: effective.sentinel, alert_rules: edited })
      assert.equal(res.status, 200, res.raw)
      assert.deepEqual((res.body.detectors as { unchanged: boolean }).unchanged, true, 'absent part: unchanged')
      const written = res.body.alert_rules as { version: number; op: string; applied: string }
      assert.deepEqual([written.op, written.applied], ['config', 'live'])
      assert.deepEqual(res.body.restart_required, [])
      assert.ok(!res.raw.includes('hunter2'), res.raw)
      assert.deepEqual(
        (await anomalies(1, 'warning')).map((a) => a.rule_id),
        ['critical-only'],
      )
      const again = await inject('PUT', '/api/v1/config', { alert_rules: edited })
      assert.deepEqual(again.body.alert_rules, { unchanged: true, version: written.version })
    })

    test('a bad part refuses the whole body; detectors are versioned the same way', async () => {
      const bad = await inject('PUT', '/api/v1/config', {
        detectors: {
          items: [{ id: 'cost-rule', type: 'rule', strategy: 'threshold', groupBy: 'application', metric: 'cost', condition: 'greater_than', value: 2 }],
        },
        alert_rules: { rules: [{ alert_id: 'x' }] },
      })
      assert.equal(bad.status, 422, bad.raw)
      assert.equal(json((await api.inject({ method: 'GET', url: '/api/v1/detectors/versions' })).body).current_version, 0, 'nothing written')
      const good = await inject('PUT', '/api/v1/config', {
        detectors: {
          items: [{ id: 'cost-rule', type: 'rule', strategy: 'threshold', groupBy: 'application', metric: 'cost', condition: 'greater_than', value: 2 }],
        },
      })
      assert.equal(good.status, 200, good.raw)
      assert.deepEqual([(good.body.detectors as { version: number }).version, (good.body.detectors as { applied: string }).applied], [1, 'live'])
    })
  })
})
