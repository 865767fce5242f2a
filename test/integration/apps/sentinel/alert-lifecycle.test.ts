/**
 * An incident through the alert lifecycle on the real broker and the running app, every delivery
 * checked on local receivers (two webhooks, an SMTP server): critical anomalies of two applications
 * → alerts → grouped by application (groupWait 2s: one notification for the two chatbot alerts,
 * its title from a template) → routed by team to a second webhook; the billing alert is held back
 * by a silence made through the API; one chatbot alert is acknowledged through the API, the other
 * escalates by email; then the anomalies stop and both auto-resolve, the resolve going to every
 * receiver each reached (the email only for the escalated one). Wall-clock waits are seconds here.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { Registry } from 'prom-client'
import { SMTPServer } from 'smtp-server'
import type { AlertNotification } from '../../../../apps/sentinel/alerting/alert-notification.js'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices, type SentinelServices } from '../../../../apps/sentinel/sentinel-app.js'
import { SentinelStreams } from '../../../../runtime/kafka/sentinel-streams.js'
import { type AnomalyEvent, anomalyEventSchema, createAnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../schemas/index.js'
import { startReceiver } from '../../../unit/apps/sentinel/delivery/fixtures.js'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../kafka.js'
import { createSentinelTopics, eventually, freePort } from './sentinel-fixtures.js'

const API_KEY = 'alert-lifecycle-api-key-0123456789'

const RULES = `
rules:
  - alert_id: incident
    name: Incident
    conditions: { trigger: anomaly, filters: { severity: [critical] } }
    actions: [{ type: notification, config: { receivers: [oncall], template: page } }]
    labels: { team: ml-platform }
    escalation: lead
routing:
  - match: { severity: critical, team: ml-platform }
    receivers: [team]
grouping: { groupBy: [application_id], groupWait: 2s, groupInterval: 4s }
resolve: { timeout: 15s }
escalation_policies:
  - name: lead
    levels: [{ after: 8s, receivers: [lead-mail] }]
templates:
  page:
    title: "{{notification.kind}}: {{notification.count}} alert(s) on {{labels.application_id}}"
`

test('an incident goes through grouping, routing, a silence, an acknowledgement, an escalation email and an auto-resolve', { timeout: 240_000 }, async () => {
  const mails: string[] = []
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8').replace(/=\r\n/g, ''))
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve))
  const smtpPort = (smtp.server.address() as AddressInfo).port
  const hooks = await startReceiver((_req, _i, res) => res.writeHead(200).end())
  const kafka = testKafka()
  const admin = kafka.admin()
  await admin.connect()
  const topics = await createSentinelTopics(admin, 'lifecycle', 2)
  const applicationId = uniqueTopic('lifecycle-sentinel')
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-lifecycle-'))
  writeFileSync(join(dir, 'rules.yaml'), RULES)
  writeFileSync(
    join(dir, 'receivers.yaml'),
    `receivers:
  - { name: oncall, type: webhook, config: { url: "${hooks.url}/oncall" } }
  - { name: team, type: webhook, config: { url: "${hooks.url}/team" } }
  - { name: lead-mail, type: email, config: { smtpUrl: "smtp://127.0.0.1:${smtpPort}", from: sentinel@example.com, to: [lead@example.com] } }
`,
  )
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
  const metrics = new Registry()
  const port = await freePort()
  const applicationServer = `127.0.0.1:${port}`
  const app = loadSentinelApp({ applicationId, applicationServer, sentinel: { topics, alertRules: join(dir, 'rules.yaml'), receivers: join(dir, 'receivers.yaml'), api: { host: '127.0.0.1', apiKeys: [API_KEY] } } }, {})
  const streams = new SentinelStreams(buildSentinelAppTopology(app, { metrics, logger }), { applicationId, applicationServer, brokers: kafkaBrokers(), stateDir: join(dir, 'state'), commitIntervalMs: 200 }, { logger, metrics })
  let services: SentinelServices | undefined
  // The API's JSON is read loosely here; its shapes have their own tests.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`http://${applicationServer}/api/v1${path}`, { method, headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, json: await res.json().catch(() => null) }
  }
  const received = (path: string): AlertNotification[] => hooks.requests.filter((r) => r.url === path).map((r) => JSON.parse(r.body) as AlertNotification)
  try {
    await streams.start()
    services = await startSentinelServices(app, { runtime: streams, logger, metrics })
    await streams.waitForState('running')

    const silence = await api('POST', '/silences', { matchers: [{ name: 'application_id', value: 'billing' }], ends_at: new Date(Date.now() + 3_600_000).toISOString(), created_by: 'ops', comment: 'billing migration' })
    assert.equal(silence.status, 201, JSON.stringify(silence.json))

    const now = Date.now()
    const anomaly = (n: number, application: string, detector: string): AnomalyEvent =>
      createAnomalyEvent({ anomaly_id: anomalyId(detector, application, now + n), timestamp: new Date(now - 1000 + n).toISOString(), detector_id: detector, severity: 'critical', score: 0.9, application_id: application, title: `${detector} on ${application}`, description: 'x' })
    const avro = Serdes.avro<AnomalyEvent>(anomalyEventSchema)
    const anomalies = [anomaly(1, 'chatbot', 'error-rate-burst'), anomaly(2, 'chatbot', 'cost-threshold'), anomaly(3, 'billing', 'error-rate-burst')]
    await streams.send(topics.anomalies, anomalies.map((a) => ({ key: a.anomaly_id, value: avro.serialize(a, topics.anomalies) })))

    // Grouping: one notification for chatbot's two alerts, to the rule's receiver (templated) and the team route.
    const [firing] = await eventually('the chatbot notification', async () => (received('/oncall').length > 0 ? received('/oncall') : undefined))
    assert.equal(firing!.title, 'firing: 2 alert(s) on chatbot')
    assert.deepEqual(firing!.notification.alerts.map((a) => a.detector_id).sort(), ['cost-threshold', 'error-rate-burst'])
    const team = await eventually('the team route', async () => (received('/team').length > 0 ? received('/team') : undefined))
    assert.equal(team[0]!.notification.notification_id, firing!.notification.notification_id)

    // The ack must land before the escalation (8 s after the notification).
    const [acked, escalating] = firing!.notification.alerts
    const ack = await api('PUT', `/alerts/${acked!.alert_id}`, { status: 'acknowledged', by: 'ana' })
    assert.equal(ack.status, 202, JSON.stringify(ack.json))

    // The silence: billing's alert is recorded silenced and never reaches a receiver.
    const billing = await eventually('the silenced billing alert', async () => {
      const { json } = await api('GET', '/alerts?application_id=billing')
      const item = json?.items?.[0]
      return item?.status === 'silenced' ? item : undefined
    })
    assert.ok(billing.deliveries.every((d: { status: string; last_error: string }) => d.status === 'silenced' && d.last_error === `silenced by ${silence.json.id}`))

    // Escalation: only the unacknowledged alert reaches the lead by email.
    await eventually('the escalation email', async () => (mails.length > 0 ? mails : undefined), 30_000)
    assert.equal(mails.length, 1)
    assert.match(mails[0]!, new RegExp(`X-Sentinel-Alert-Id: ${escalating!.alert_id}`, "i"))
    assert.match(mails[0]!, /Subject: ESCALATED: \(level 1\)/)
    const ackedView = await api('GET', `/alerts/${acked!.alert_id}`)
    assert.deepEqual([ackedView.json.lifecycle?.state, ackedView.json.lifecycle?.acknowledged_by], ['acknowledged', 'ana'])

    // Auto-resolve: no anomaly for 15 s; the resolve reaches the webhooks, and the lead only for the escalated alert.
    const resolvedIds = await eventually('both resolved on /oncall', async () => {
      const ids = received('/oncall').filter((n) => n.notification.kind === 'resolved').flatMap((n) => n.notification.alerts.map((a) => a.alert_id))
      return ids.length === 2 ? ids : undefined
    }, 60_000)
    assert.deepEqual(resolvedIds.sort(), [acked!.alert_id, escalating!.alert_id].sort())
    assert.ok(received('/oncall').filter((n) => n.notification.kind === 'resolved').every((n) => n.notification.by === null && n.title.startsWith('resolved: ')))
    await eventually('the resolve on /team', async () => (received('/team').some((n) => n.notification.kind === 'resolved') ? true : undefined))
    await eventually('the resolve email', async () => (mails.length === 2 ? true : undefined), 20_000)
    assert.match(mails[1]!, new RegExp(`X-Sentinel-Alert-Id: ${escalating!.alert_id}`, "i"))
    const view = await eventually('the resolved state in the view', async () => {
      const { json } = await api('GET', `/alerts/${escalating!.alert_id}`)
      return json?.lifecycle?.state === 'resolved' ? json.lifecycle : undefined
    })
    assert.deepEqual([view.escalation_level, view.resolved_by], [1, null])
    // Nothing ever reached a receiver about billing.
    assert.ok(hooks.requests.every((r) => !r.body.includes('"application_id":"billing"')))

    const expired = await api('DELETE', `/silences/${silence.json.id}`)
    assert.equal(expired.json.state, 'expired')
  } finally {
    await services?.close()
    await streams.close()
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined)
    await admin.disconnect()
    await hooks.close()
    await new Promise<void>((resolve) => smtp.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  }
})
