/**
 * Detector-level actions: the gate of a shield action, the requests an anomaly carries, the alerts
 * they make or join (with one delivery per receiver per alert), the anomaly view's outcome
 * replacing a request, and the check against the receivers file.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { parseAlertRulesConfig } from '../../../../apps/sentinel/alerting/alert-rules-config.js'
import { addAlerting } from '../../../../apps/sentinel/alerting/alert-topology.js'
import { applyAnomalyUpdate } from '../../../../apps/sentinel/anomaly-view.js'
import { ActionRouter } from '../../../../apps/sentinel/delivery/action-routing.js'
import { AlertDispatcher } from '../../../../apps/sentinel/delivery/alert-dispatcher.js'
import type { DeliveryRecord } from '../../../../apps/sentinel/delivery/delivery-record.js'
import { buildSentinelAppTopology, loadSentinelApp } from '../../../../apps/sentinel/sentinel-app.js'
import type { IncomingRecord, OutgoingRecord } from '../../../../runtime/streams-runtime.js'
import { parseReceiversConfig } from '../../../../apps/sentinel/delivery/receivers-config.js'
import {
  detectorActionIssues,
  requestedActions,
  requestedActionsTaken,
  shieldWithheldReason,
  withDetectorActions,
} from '../../../../apps/sentinel/detector-actions.js'
import { DEFAULT_SHIELD_GATE, type DetectorConfig, parseDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { addSentinelDetection } from '../../../../apps/sentinel/topology.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { alertEventSerde } from '../../../../schemas/alert/alert-event-serde.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'
import { StreamsBuilder } from '../../../../topology/index.js'
import { response } from './api/fixtures.js'
import { type ReceivedRequest, type TestReceiver, reply, startReceiver } from './delivery/fixtures.js'

const T0 = Date.UTC(2026, 0, 1)

function anomaly(overrides: Partial<AnomalyEvent> = {}): AnomalyEvent {
  return {
    anomaly_id: 'a-1',
    timestamp: new Date(T0).toISOString(),
    detector_id: 'cost-user',
    detector_type: 'rule',
    severity: 'critical',
    score: 0.9,
    status: 'active',
    application_id: 'billing-bot',
    tenant_id: null,
    title: 'cost streak',
    description: null,
    affected_entity: { type: 'user', id: 'u-1', name: null },
    metrics: null,
    context: null,
    actions_taken: [],
    ...overrides,
  }
}

const detectorWith = (actions: string, extra = ''): DetectorConfig =>
  parseDetectorsConfig(
    `detectors:\n  - id: cost-user\n    type: rule\n    strategy: consecutive\n    groupBy: user\n${extra}    metric: cost\n    condition: greater_than\n    value: 1.0\n    consecutive: 3\n    actions:\n${actions}`,
  ).detectors[0]!

const RECEIVERS = `
routing:
  webhook: []
receivers:
  - name: slack-ml
    type: webhook
    config: { url: http://127.0.0.1:9/slack }
  - name: pager
    type: webhook
    config: { url: http://127.0.0.1:9/pager }
  - name: shield
    type: shield
    config: { endpoint: http://127.0.0.1:9/shield, action: rate_limit }
`

describe('the shield gate', () => {
  test('acts only on a critical anomaly scoring at least 0.75 about a named entity (the default)', () => {
    assert.equal(shieldWithheldReason(DEFAULT_SHIELD_GATE, anomaly()), null)
    assert.equal(shieldWithheldReason(DEFAULT_SHIELD_GATE, anomaly({ score: 0.75 })), null)
    assert.match(shieldWithheldReason(DEFAULT_SHIELD_GATE, anomaly({ severity: 'warning' }))!, /severity warning is below critical/)
    assert.match(shieldWithheldReason(DEFAULT_SHIELD_GATE, anomaly({ score: 0.6 }))!, /score 0\.60 is below 0\.75/)
    assert.match(shieldWithheldReason(DEFAULT_SHIELD_GATE, anomaly({ affected_entity: null }))!, /names no entity/)
    // Every reason is said, not the first only.
    assert.equal(shieldWithheldReason(DEFAULT_SHIELD_GATE, anomaly({ severity: 'info', score: 0.1 }))!.split('; ').length, 2)
  })

  test("a detector's gate is its own: minSeverity and minScore", () => {
    const d = detectorWith('      - shield: block\n        minSeverity: warning\n        minScore: 0.5\n')
    assert.deepEqual(requestedActionsTaken(d, anomaly({ severity: 'warning', score: 0.55 })), [
      { action: 'shield_block', target: null, status: 'pending', timestamp: anomaly().timestamp },
    ])
    const [withheld] = requestedActionsTaken(d, anomaly({ severity: 'warning', score: 0.4 }))
    assert.deepEqual(withheld, { action: 'log', target: 'shield block withheld: score 0.40 is below 0.5', status: 'success', timestamp: anomaly().timestamp })
  })

  test('a gate field beside alert: is refused, naming the entry', () => {
    assert.throws(
      () => detectorWith('      - alert: slack-ml\n        minScore: 0.9\n'),
      /actions\[0\].*minScore and minSeverity are the gate of a shield action/s,
    )
  })
})

describe("an anomaly's requests", () => {
  test('the severity floor applies first, then the actions are asked for with what the anomaly then is', () => {
    // A warning scored 0.9 is raised to critical by the alert action's severity, so the shield gate passes.
    const d = detectorWith('      - alert: slack-ml\n        severity: critical\n      - shield: rate_limit\n')
    const out = withDetectorActions(d, anomaly({ severity: 'warning' }))
    assert.equal(out.severity, 'critical')
    assert.deepEqual(
      out.actions_taken.map((a) => [a.action, a.target, a.status]),
      [
        ['alert', 'slack-ml', 'pending'],
        ['shield_rate_limit', null, 'pending'],
      ],
    )
    assert.deepEqual(requestedActions(out), {
      actions: [
        { type: 'notification', config: { receivers: ['slack-ml'], detector: 'cost-user' } },
        { type: 'shield', config: { action: 'rate_limit', detector: 'cost-user' } },
      ],
      withheld: [],
    })
  })

  test('outcomes (success, failed) are not requests: a replayed decorated anomaly asks for nothing again', () => {
    const done = anomaly({ actions_taken: [{ action: 'alert', target: 'slack-ml', status: 'success', timestamp: null }] })
    assert.deepEqual(requestedActions(done), { actions: [], withheld: [] })
  })
})

/** A call by `user` at second `i` costing `cost`. */
const call = (user: string, i: number, cost: number): TelemetryEvent =>
  response('billing-bot', T0 + i * 1000, 800, {
    data: { status: 'success', latency_ms: 800, model: 'gpt-4', total_tokens: 120, cost },
    metadata: { user_id: user },
  })

/** Three calls by u-1 over $1 into the driver's telemetry topic (a cost-user streak); the alerts written. */
async function costStreakAlerts(driver: TopologyTestDriver) {
  const input = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
  const alerts = driver.createOutputTopic('alerts', Serdes.string(), alertEventSerde())
  for (const [i, cost] of [
    [0, 1.5],
    [1, 2],
    [2, 3],
  ] as const)
    await input.pipe(null, call('u-1', i, cost), { timestamp: T0 + i * 1000 })
  return alerts.readValues()
}

/** Detection and alerting in one topology; a cost streak of three calls by u-1. */
async function streakAlerts(detectorActions: string, rules: string) {
  const detectors = parseDetectorsConfig(
    `detectors:\n  - id: cost-user\n    type: rule\n    strategy: consecutive\n    groupBy: user\n    severity: critical\n    metric: cost\n    condition: greater_than\n    value: 1.0\n    consecutive: 3\n    actions:\n${detectorActions}`,
  )
  const builder = new StreamsBuilder()
  const anomalies = [...addSentinelDetection(builder, { detectors }).values()].reduce((all, stream) => all.merge(stream))
  addAlerting(builder, anomalies, { rules: parseAlertRulesConfig(rules) })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'detector-actions-test' })
  try {
    return await costStreakAlerts(driver)
  } finally {
    await driver.close()
  }
}

const WARNINGS_ONLY = `
rules:
  - alert_id: warnings
    name: Warnings
    conditions: { trigger: anomaly, filters: { severity: [warning] } }
    actions: [{ type: notification, config: { receivers: [pager] } }]
`
const CRITICAL_TO_BOTH = `
rules:
  - alert_id: critical
    name: Critical
    conditions: { trigger: anomaly, filters: { severity: [critical] } }
    actions: [{ type: notification, config: { receivers: [pager, slack-ml] } }]
`

describe('alerts of detector actions', () => {
  const router = new ActionRouter(parseReceiversConfig(RECEIVERS, { env: {} }))

  test('no rule takes the anomaly: it makes its own alert, delivered to the named receiver and to Shield past the gate', async () => {
    const alerts = await streakAlerts('      - alert: slack-ml\n      - shield: block\n        minScore: 0\n', WARNINGS_ONLY)
    assert.equal(alerts.length, 1)
    const alert = alerts[0]!
    assert.equal(alert.rule_id, 'detector:cost-user')
    assert.equal(alert.anomaly.detector_id, 'cost-user')
    const routed = router.route(alert.actions).map((t) => (t.kind === 'deliver' ? `${t.action.type}->${t.receiver.name}` : `${t.kind}`))
    assert.deepEqual(routed, ['notification->slack-ml', 'shield->shield'])
  })

  test('a rule already sending to the receiver: one delivery to it for the alert, the rule and the detector together', async () => {
    const alerts = await streakAlerts('      - alert: slack-ml\n', CRITICAL_TO_BOTH)
    assert.deepEqual(
      alerts.map((a) => a.rule_id),
      ['critical'],
    )
    const names = router.route(alerts[0]!.actions).map((t) => (t.kind === 'deliver' ? t.receiver.name : t.kind))
    assert.deepEqual(names, ['pager', 'slack-ml'])
  })

  test('below the gate the shield action is withheld: the alert says so and why, and carries no shield action', async () => {
    // A consecutive rule scores its streak below 1; the gate asks for the highest score.
    const alerts = await streakAlerts('      - shield: block\n        minScore: 1\n', WARNINGS_ONLY)
    assert.equal(alerts.length, 1)
    const alert = alerts[0]!
    assert.equal(alert.rule_id, 'detector:cost-user')
    assert.deepEqual(alert.actions, [])
    assert.match(alert.description, /Detector cost-user: shield block withheld: score 0\.\d\d is below 1\./)
    assert.deepEqual(
      alert.anomaly.actions_taken.map((a) => [a.action, a.status]),
      [['log', 'success']],
    )
  })

  test('an anomaly asking for nothing makes no alert of its own', async () => {
    assert.deepEqual(await streakAlerts('      - log\n', WARNINGS_ONLY), [])
  })
})

describe('the anomaly view', () => {
  test('a delivery outcome replaces the request it answers; a shield request (no receiver named) by the shield outcome', () => {
    const asked = anomaly({
      actions_taken: [
        { action: 'alert', target: 'slack-ml', status: 'pending', timestamp: new Date(T0).toISOString() },
        { action: 'shield_block', target: null, status: 'pending', timestamp: new Date(T0).toISOString() },
      ],
    })
    // The dispatcher's wall clock may be behind the anomaly's event time: an outcome still wins over a request.
    const at = new Date(T0 - 60_000).toISOString()
    let record = applyAnomalyUpdate(undefined, { type: 'anomaly', anomaly: asked }, T0)
    record = applyAnomalyUpdate(
      record,
      { type: 'action', anomaly_id: 'a-1', action: { action: 'alert', target: 'slack-ml', status: 'success', timestamp: at } },
      T0,
    )
    record = applyAnomalyUpdate(
      record,
      { type: 'action', anomaly_id: 'a-1', action: { action: 'shield_block', target: 'shield', status: 'failed', timestamp: at } },
      T0,
    )
    assert.deepEqual(
      record.anomaly!.actions_taken.map((a) => [a.action, a.target, a.status]),
      [
        ['alert', 'slack-ml', 'success'],
        ['shield_block', 'shield', 'failed'],
      ],
    )
  })
})

describe('checked against the receivers file', () => {
  const receivers = parseReceiversConfig(RECEIVERS, { env: {} })

  test('an alert: naming no receiver is refused with the field and the known names', () => {
    const issues = detectorActionIssues([detectorWith('      - alert: token-rate-anomaly\n')], receivers)
    assert.equal(issues.length, 1)
    assert.equal(issues[0]!.detector, 'cost-user')
    assert.equal(issues[0]!.field, 'actions[0].alert')
    assert.match(issues[0]!.message, /receiver 'token-rate-anomaly' is not defined .*known: slack-ml, pager, shield/)
  })

  test('a shield: without any shield receiver is refused', () => {
    const noShield = parseReceiversConfig(`receivers:\n  - name: slack-ml\n    type: webhook\n    config: { url: http://127.0.0.1:9/x }\n`, { env: {} })
    const issues = detectorActionIssues([detectorWith('      - alert: slack-ml\n      - shield: block\n')], noShield)
    assert.deepEqual(
      issues.map((i) => i.field),
      ['actions[1].shield'],
    )
    assert.deepEqual(detectorActionIssues([detectorWith('      - alert: slack-ml\n      - shield: block\n')], receivers), [])
  })
})

describe('the assembled app delivers what a detector asks for', () => {
  let hook: TestReceiver | null = null
  after(() => hook?.close())

  test('a receiver named by the rule and the detector gets one delivery, the detector-only one gets its own, Shield gets the gated request', async () => {
    const received: ReceivedRequest[] = []
    hook = await startReceiver((req, _i, res) => {
      received.push(req)
      reply(res, 200, '{}')
    })
    const dir = mkdtempSync(join(tmpdir(), 'detector-actions-'))
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text)
      return join(dir, name)
    }
    const url = hook.url
    const settings = {
      detectors: file(
        'detectors.yaml',
        'detectors:\n  - id: cost-user\n    type: rule\n    strategy: consecutive\n    groupBy: user\n    severity: critical\n    metric: cost\n    condition: greater_than\n    value: 1.0\n    consecutive: 3\n    actions:\n      - alert: rule-hook\n      - alert: det-hook\n      - shield: block\n        minScore: 0\n',
      ),
      alertRules: file(
        'rules.yaml',
        `rules:\n  - alert_id: critical\n    name: Critical\n    conditions: { trigger: anomaly, filters: { severity: [critical] } }\n    actions: [{ type: notification, config: { receivers: [rule-hook] } }]\n`,
      ),
      receivers: file(
        'receivers.yaml',
        `receivers:\n  - name: rule-hook\n    type: webhook\n    config: { url: ${url}/rule }\n  - name: det-hook\n    type: webhook\n    config: { url: ${url}/det }\n  - name: shield\n    type: shield\n    config: { endpoint: ${url}/shield }\n`,
      ),
    }
    const app = loadSentinelApp({ sentinel: settings }, {})
    const driver = await TopologyTestDriver.create(buildSentinelAppTopology(app), { applicationId: 'detector-actions-app', startWallClockMs: T0 + 60_000 })
    const alerts = await costStreakAlerts(driver)
    await driver.close()
    assert.deepEqual(
      alerts.map((a) => a.rule_id),
      ['critical'],
    )

    const sent: OutgoingRecord[] = []
    const runtime = {
      consume: () => Promise.reject(new Error('not used')),
      send: async (_topic: string, records: readonly OutgoingRecord[]) => void sent.push(...records),
    }
    const records: IncomingRecord[] = alerts.map((a, i) => ({
      topic: 'alerts',
      partition: 0,
      offset: String(i),
      key: Buffer.from(a.alert_id),
      value: Buffer.from(JSON.stringify(a)),
      headers: {},
      timestamp: 0,
    }))
    await new AlertDispatcher({ receivers: app.receivers, runtime }).handleBatch(records)
    const deliveries = sent.map((r) => JSON.parse(String(r.value)) as DeliveryRecord)
    assert.deepEqual(deliveries.map((d) => [d.receiver, d.action, d.status]).sort(), [
      ['det-hook', 'notification', 'success'],
      ['rule-hook', 'notification', 'success'],
      ['shield', 'shield', 'success'],
    ])
    assert.deepEqual(received.map((r) => r.url).sort(), ['/det', '/rule', '/shield/v1/actions'])
    const shield = JSON.parse(received.find((r) => r.url.startsWith('/shield'))!.body) as { type: string; target_entity: string }
    assert.deepEqual([shield.type, shield.target_entity], ['BLOCK', 'user:u-1'])
  })
})
