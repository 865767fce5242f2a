/**
 * The dispatcher on the lifecycle's notifications: a batch is one message and one delivery record
 * per alert, templates shape the message, silences hold alerts back, a resolve reaches PagerDuty as
 * `resolve`. Fake runtime (fake-runtime.ts), real HTTP receivers.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import type { AlertNotification, NotificationKind } from '../../../../../apps/sentinel/alerting/alert-notification.js'
import { alertLabels, notifiedAlert } from '../../../../../apps/sentinel/alerting/alert-notification.js'
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { AlertDispatcher } from '../../../../../apps/sentinel/delivery/alert-dispatcher.js'
import { parseReceiversConfig } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { type Silence, SilenceBook } from '../../../../../apps/sentinel/delivery/silences.js'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'
import { FakeRuntime } from './fake-runtime.js'
import { type TestReceiver, reply, sampleAlert, startReceiver } from './fixtures.js'

const NOW = Date.parse('2025-11-06T12:40:00Z')
const servers: TestReceiver[] = []
after(() => Promise.all(servers.map((s) => s.close())))

const RULES = parseAlertRulesConfig(`
rules:
  - alert_id: critical-anomalies
    name: Critical anomalies
    conditions: { trigger: anomaly }
    actions: [{ type: notification, config: { receivers: [hook], template: page } }]
templates:
  page:
    title: "[{{notification.kind}}] {{notification.count}} for {{labels.application_id}}"
    text: "{{#alerts}}{{detector_id}}:{{severity}};{{/alerts}}"
`)

function notification(kind: NotificationKind, alerts: AlertEvent[], actions = alerts[0]!.actions): AlertNotification {
  return {
    ...alerts[0]!,
    actions,
    notification: {
      notification_id: `n-${kind}-${alerts.map((a) => a.alert_id).join(',')}`,
      kind,
      group_key: 'application_id=chatbot-prod',
      group_labels: { application_id: 'chatbot-prod' },
      alerts: alerts.map(notifiedAlert),
      escalation_level: null,
      by: null,
      at: new Date(NOW).toISOString(),
    },
  }
}

async function setup(silences: readonly Silence[] = []) {
  const hook = await startReceiver((_req, _i, res) => reply(res, 200))
  const pd = await startReceiver((_req, _i, res) => reply(res, 202, '{"status":"success"}'))
  servers.push(hook, pd)
  const receivers = parseReceiversConfig(
    `receivers:
  - { name: hook, type: webhook, config: { url: "${hook.url}/hook" } }
  - { name: pd, type: pagerduty, config: { routingKey: rk, url: "${pd.url}/enqueue" } }
delivery: { retry: { maxAttempts: 1 } }
`,
    { env: {}, source: 'receivers.test.yaml' },
  )
  const runtime = new FakeRuntime()
  const book = new SilenceBook()
  for (const s of silences) book.apply(s)
  const dispatcher = new AlertDispatcher({
    receivers,
    runtime,
    groupId: 'd',
    templates: RULES.lifecycle!.templates,
    silences: { topic: 'silence-rules', book, labels: (a) => alertLabels(a), loadWaitMs: 10 },
    clientOptions: { now: () => NOW },
  })
  await dispatcher.start()
  return { runtime, hook, pd, dispatcher, book }
}

const alertA = sampleAlert({ alert_id: 'a-1', actions: RULES.rules[0]!.actions })
const alertB = sampleAlert({ alert_id: 'b-2', actions: RULES.rules[0]!.actions, anomaly: { ...sampleAlert().anomaly, detector_id: 'latency-spike', severity: 'warning' }, severity: 'warning' })

test('a batch is one message (the template rendered over its alerts) and one delivery record per alert; silences are read whole, uncommitted', async () => {
  const { runtime, hook, dispatcher } = await setup()
  const silenceReader = runtime.consumers.find((c) => c.topic === 'silence-rules')!
  assert.equal(silenceReader.options.commit, false)
  assert.match(silenceReader.options.groupId, /^d\.silences\./)
  await runtime.batchFor('d', [notification('firing', [alertA, alertB])])
  assert.equal(hook.requests.length, 1)
  const body = JSON.parse(hook.requests[0]!.body) as AlertNotification
  assert.equal(body.title, '[firing] 2 for chatbot-prod')
  assert.equal(body.description, 'token-rate-spike:critical;latency-spike:warning;')
  assert.deepEqual(body.notification.alerts.map((a) => a.alert_id), ['a-1', 'b-2'])
  assert.deepEqual(runtime.deliveries().map((d) => [d.alert_id, d.receiver, d.status]), [['a-1', 'hook', 'success'], ['b-2', 'hook', 'success']])
  await dispatcher.stop()
})

test('silences: matched alerts are left out and recorded silenced; nothing is sent when all are; an expired silence silences nothing', async () => {
  const silence = (id: string, matchers: Silence['matchers'], endsAt = NOW + 3_600_000): Silence => ({ type: 'silence-rule', id, matchers, starts_at: new Date(NOW - 1000).toISOString(), ends_at: new Date(endsAt).toISOString(), created_by: 'ops', comment: null, updated_at: new Date(NOW - 1000).toISOString() })
  const { runtime, hook, book, dispatcher } = await setup([silence('s-latency', [{ name: 'detector_id', value: 'latency.*', is_regex: true, is_equal: true }])])
  await runtime.batchFor('d', [notification('firing', [alertA, alertB])])
  assert.equal(hook.requests.length, 1)
  assert.deepEqual((JSON.parse(hook.requests[0]!.body) as AlertNotification).notification.alerts.map((a) => a.alert_id), ['a-1'])
  assert.deepEqual(runtime.deliveries().map((d) => [d.alert_id, d.status, d.last_error]), [['b-2', 'silenced', 'silenced by s-latency'], ['a-1', 'success', null]])

  book.apply(silence('s-app', [{ name: 'application', value: 'chatbot-prod', is_regex: false, is_equal: true }, { name: 'severity', value: 'info', is_regex: false, is_equal: false }]))
  await runtime.batchFor('d', [notification('resolved', [alertA, alertB])])
  assert.equal(hook.requests.length, 1, 'every alert silenced: nothing sent')
  book.apply({ ...silence('s-app', [], NOW - 1), updated_at: new Date(NOW).toISOString() })
  book.apply({ ...silence('s-latency', [], NOW - 1), updated_at: new Date(NOW).toISOString() })
  await runtime.batchFor('d', [notification('escalation', [alertB])])
  assert.equal(hook.requests.length, 2, 'expired silences hold nothing back')
  await dispatcher.stop()
})

test('a resolved notification reaches PagerDuty as resolve with the firing dedup_key; a firing one as trigger', async () => {
  const { runtime, pd, dispatcher } = await setup()
  const actions = [{ type: 'notification' as const, config: { receivers: ['pd'] } }]
  await runtime.batchFor('d', [notification('firing', [alertA], actions)])
  await runtime.batchFor('d', [notification('resolved', [alertA], actions)])
  const events = pd.requests.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string })
  assert.deepEqual(events.map((e) => e.event_action), ['trigger', 'resolve'])
  assert.equal(events[0]!.dedup_key, events[1]!.dedup_key)
  await dispatcher.stop()
})
