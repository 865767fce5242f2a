import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import type { AlertCommand, AlertNotification } from '../../../../../apps/sentinel/alerting/alert-notification.js'
import { notificationGroupOf } from '../../../../../apps/sentinel/alerting/alert-notification.js'
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { buildAlertTopology } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { alertCommandSerde, notificationSerde } from '../../../../../apps/sentinel/alerting/lifecycle-topology.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/topology-test-driver.js'
import { type AnomalyEvent, anomalyEventSchema, createAnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../../schemas/index.js'
import { engines } from '../../../../../state/index.js'

const T0 = Date.UTC(2026, 6, 1, 12)
const SEC = 1000
const MIN = 60_000
let n = 0

function anomaly(over: Partial<AnomalyEvent> = {}): AnomalyEvent {
  n += 1
  return createAnomalyEvent({
    anomaly_id: anomalyId(over.detector_id ?? 'latency-spike', 'k', n),
    timestamp: new Date(T0 + n * SEC).toISOString(),
    detector_id: 'latency-spike',
    severity: 'critical',
    score: 0.9,
    application_id: 'chatbot',
    title: 'Latency spike',
    description: 'slow',
    ...over,
  })
}

const RULES = (lifecycle: string): string => `
rules:
  - alert_id: page
    name: Page
    conditions: { trigger: anomaly }
    actions: [{ type: notification, config: { receivers: [pagerduty-oncall] } }]
    escalation: lead
    labels: { team: ml-platform }
escalation_policies:
  - name: lead
    levels:
      - { after: 10m, receivers: [slack-leads] }
      - { after: 30m, receivers: [email-director] }
${lifecycle}
`

async function harness(lifecycle: string, driverOptions: Parameters<typeof TopologyTestDriver.create>[1] = {}) {
  const config = parseAlertRulesConfig(RULES(lifecycle))
  const topology = buildAlertTopology({ rules: config, metrics: new Registry(), lifecycle: { notificationsTopic: 'notes', commandsTopic: 'commands', tickMs: SEC } })
  const driver = await TopologyTestDriver.create(topology, { applicationId: 'test-app', startWallClockMs: T0, ...driverOptions })
  const input = driver.createInputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>(anomalyEventSchema))
  const commands = driver.createInputTopic('commands', Serdes.string(), alertCommandSerde())
  const output = driver.createOutputTopic('notes', Serdes.string(), notificationSerde())
  const pipe = (a: AnomalyEvent): Promise<void> => input.pipe(a.application_id ?? 'none', a, { timestamp: Date.parse(a.timestamp) })
  const read = (): AlertNotification[] => output.readValues()
  const command = async (note: AlertNotification, alertId: string, kind: AlertCommand['command'], by = 'ana'): Promise<void> => {
    const key = notificationGroupOf(note, config.rules[0], config.lifecycle!.groupBy).key
    await commands.pipe(key, { type: 'command', command: kind, alert_id: alertId, by, note: null, at: new Date(driver.wallClockTime).toISOString() })
  }
  return { driver, pipe, read, command }
}

const summary = (notes: readonly AlertNotification[]): string[] => notes.map((x) => `${x.notification.kind}:${x.notification.alerts.length}:${x.actions.flatMap((a) => a.config.receivers as string[]).join('+')}`)

test('grouping: groupWait batches a group\'s first alerts into one notification, groupInterval the next ones', async () => {
  const { driver, pipe, read } = await harness('grouping: { groupBy: [application_id, team], groupWait: 30s, groupInterval: 5m }')
  await pipe(anomaly())
  await pipe(anomaly({ detector_id: 'cost-threshold' }))
  await pipe(anomaly({ application_id: 'billing' }))
  assert.deepEqual(read(), [], 'nothing before groupWait')
  await driver.advanceWallClockTime(29 * SEC)
  assert.deepEqual(read(), [])
  await driver.advanceWallClockTime(1 * SEC)
  const first = read()
  assert.deepEqual(summary(first).sort(), ['firing:1:pagerduty-oncall', 'firing:2:pagerduty-oncall'])
  const chatbot = first.find((x) => x.notification.alerts.length === 2)!
  assert.deepEqual(chatbot.notification.group_labels, { application_id: 'chatbot', team: 'ml-platform' })
  assert.match(chatbot.title, /^2 alerts for application_id=chatbot, team=ml-platform$/)

  // A new alert of a notified group waits for groupInterval since the group's last notification.
  await driver.advanceWallClockTime(1 * MIN)
  await pipe(anomaly({ detector_id: 'error-burst' }))
  await driver.advanceWallClockTime(3 * MIN)
  assert.deepEqual(read(), [])
  await driver.advanceWallClockTime(1 * MIN)
  assert.deepEqual(summary(read()), ['firing:1:pagerduty-oncall'])
  await driver.close()
})

test('escalation: unacknowledged alerts reach each level once; acknowledging stops it; resolve notifies every receiver told', async () => {
  const { driver, pipe, read, command } = await harness('')
  await pipe(anomaly())
  await pipe(anomaly({ detector_id: 'other' }))
  const fired = read()
  assert.deepEqual(summary(fired), ['firing:1:pagerduty-oncall', 'firing:1:pagerduty-oncall'], 'no grouping, no waits: at once, one per alert')
  const [a, b] = fired.map((x) => x.notification.alerts[0]!.alert_id)
  await driver.advanceWallClockTime(10 * MIN)
  assert.deepEqual(summary(read()), ['escalation:1:slack-leads', 'escalation:1:slack-leads'])
  await command(fired[0]!, a!, 'acknowledge')
  const acked = read()
  assert.deepEqual(summary(acked), ['acknowledged:1:'])
  assert.equal(acked[0]!.notification.by, 'ana')
  await driver.advanceWallClockTime(20 * MIN)
  const later = read()
  assert.deepEqual(summary(later), ['escalation:1:email-director'], 'only the unacknowledged alert reaches level 2')
  assert.equal(later[0]!.notification.alerts[0]!.alert_id, b)
  assert.equal(later[0]!.notification.escalation_level, 2)
  await driver.advanceWallClockTime(60 * MIN)
  assert.deepEqual(read(), [], 'each level once')
  await command(fired[1]!, b!, 'resolve', 'bo')
  const resolved = read()
  assert.deepEqual(summary(resolved), ['resolved:1:pagerduty-oncall+slack-leads+email-director'])
  assert.equal(resolved[0]!.notification.by, 'bo')
  assert.match(resolved[0]!.title, /^RESOLVED: /)
  await command(fired[1]!, b!, 'resolve')
  assert.deepEqual(read(), [], 'resolving twice changes nothing')
  await driver.close()
})

test('auto-resolve: no anomaly of the alert\'s rule group for the resolve timeout resolves it; a matching anomaly keeps it firing', async () => {
  const { driver, pipe, read } = await harness('resolve: { timeout: 15m }\ngrouping: { groupBy: [application_id] }')
  await pipe(anomaly())
  await pipe(anomaly({ detector_id: 'cost-threshold' }))
  assert.equal(read().length, 2)
  await driver.advanceWallClockTime(10 * MIN)
  read() // escalation to level 1
  await pipe(anomaly()) // latency-spike again: a new alert of the same rule group (no throttling) keeps both latency alerts alive
  await driver.advanceWallClockTime(5 * MIN)
  const resolved = read().filter((x) => x.notification.kind === 'resolved')
  assert.equal(resolved.length, 1)
  assert.deepEqual(resolved[0]!.notification.alerts.map((x) => x.detector_id), ['cost-threshold'])
  assert.equal(resolved[0]!.notification.by, null)
  await driver.advanceWallClockTime(15 * MIN)
  const rest = read().filter((x) => x.notification.kind === 'resolved')
  // Each receiver hears of the alerts it was told about: both reached the pager and level 1, only the first level 2.
  assert.deepEqual(summary(rest), ['resolved:2:pagerduty-oncall+slack-leads', 'resolved:1:email-director'])
  assert.ok(rest.every((x) => x.notification.alerts.every((y) => y.detector_id === 'latency-spike')))
  await driver.close()
})

test('lifecycle state survives a restart on the same state directory (RocksDB): a pending group still flushes, escalation goes on', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'lifecycle-restart-'))
  try {
    const first = await harness('grouping: { groupWait: 30s }', { engine: engines.rocksdb(), stateDir })
    await first.pipe(anomaly())
    assert.deepEqual(first.read(), [])
    await first.driver.close()
    const second = await harness('grouping: { groupWait: 30s }', { engine: engines.rocksdb(), stateDir, startWallClockMs: T0 + 30 * SEC })
    await second.driver.advanceWallClockTime(SEC)
    assert.deepEqual(summary(second.read()), ['firing:1:pagerduty-oncall'])
    await second.driver.advanceWallClockTime(10 * MIN)
    assert.deepEqual(summary(second.read()), ['escalation:1:slack-leads'])
    await second.driver.close()
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
})
