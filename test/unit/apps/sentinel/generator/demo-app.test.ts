/**
 * The demo's whole-app pieces: the receivers file it writes for the shipped rules, the local webhook
 * receiver's signature checks, the alert summary, and one short run of the whole app in standalone
 * mode (three costly calls → a critical anomaly → an alert delivered, signed, to three receivers, and
 * the API answering for it).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_ALERT_RULES_PATH, loadAlertRulesConfig } from '../../../../../apps/sentinel/alerting/index.js'
import { runSentinelApp } from '../../../../../apps/sentinel/demo/app-run.js'
import { formatAlertSummary, summarizeAlerts } from '../../../../../apps/sentinel/demo/alert-summary.js'
import { demoReceiversYaml, receiversReached } from '../../../../../apps/sentinel/demo/demo-receivers.js'
import { startWebhookReceiver } from '../../../../../apps/sentinel/demo/webhook-receiver.js'
import { checkReferences, parseReceiversConfig } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { signWebhook } from '../../../../../apps/sentinel/delivery/webhook-signature.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../../apps/sentinel/detectors-config.js'
import type { TelemetryEvent } from '../../../../../schemas/telemetry/index.js'

const rules = loadAlertRulesConfig(DEFAULT_ALERT_RULES_PATH, { knownDetectorIds: loadDetectorsConfig(DEFAULT_DETECTORS_PATH).detectors.map((d) => d.id) })

test('the demo receivers file: every receiver the shipped rules reach, as signed webhooks on the local receiver', () => {
  const names = receiversReached(rules.rules)
  assert.deepEqual([...names].sort(), ['incident-manager', 'pagerduty-oncall', 'sentinel-webhook', 'shield', 'slack-incidents', 'slack-ml-platform'])
  const config = parseReceiversConfig(demoReceiversYaml(names, 'http://127.0.0.1:9', 'k'.repeat(32)), { env: {} })
  assert.equal(config.disabled.length, 0)
  for (const receiver of config.receivers) {
    assert.equal(receiver.type, 'webhook')
    assert.ok(receiver.type === 'webhook' && receiver.url === `http://127.0.0.1:9/${receiver.name}` && receiver.secret === 'k'.repeat(32))
  }
  assert.deepEqual(config.routing.incident, ['incident-manager'])
  assert.deepEqual(config.routing.shield, ['shield'])
  assert.deepEqual(config.routing.webhook, ['sentinel-webhook'])
  assert.doesNotThrow(() => checkReferences(config, rules.rules))
})

test('the local receiver accepts a correctly signed body and refuses (401) a bad or missing signature', async () => {
  const secret = 's'.repeat(40)
  const receiver = await startWebhookReceiver({ secret })
  try {
    const body = JSON.stringify({ alert_id: 'a-1' })
    const post = (headers: Record<string, string>, text = body) => fetch(`${receiver.url}/slack-incidents`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text })
    assert.equal((await post(signWebhook(body, secret))).status, 204)
    assert.equal((await post(signWebhook(body, 'wrong secret'))).status, 401)
    assert.equal((await post(signWebhook(body, secret), `${body} `)).status, 401)
    assert.equal((await post({})).status, 401)
    assert.deepEqual(
      receiver.deliveries.map((d) => [d.receiver, d.verification.ok ? 'ok' : d.verification.reason, d.alert?.alert_id ?? null]),
      [
        ['slack-incidents', 'ok', 'a-1'],
        ['slack-incidents', 'bad_signature', null],
        ['slack-incidents', 'bad_signature', null],
        ['slack-incidents', 'missing_signature', null],
      ],
    )
  } finally {
    await receiver.close()
  }
})

const T0 = Date.parse('2026-03-02T10:00:00Z')

function costly(i: number): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    source: { service: 'llm-observatory', host: 'obs-1' },
    event_type: 'llm.response',
    application_id: 'research-agent',
    data: { status: 'success', latency_ms: 900, model: 'claude-3-opus', completion_tokens: 400, total_tokens: 9000, cost: 1.5 + i },
  }
}

test('the whole app in standalone mode: a critical anomaly is alerted, delivered signed to its receivers, and served by the API', async () => {
  const delivered: string[] = []
  const result = await runSentinelApp({ events: [costly(0), costly(1), costly(2)], applicationId: 'demo-app-test', logLevel: 'silent', onDelivery: (d) => delivered.push(d.receiver) })
  assert.equal(result.events, 3)
  assert.equal(result.deadLetters, 0)
  assert.deepEqual(
    result.anomalies.map((a) => [a.detector_id, a.severity]),
    [['cost-threshold', 'critical']],
  )
  assert.deepEqual(
    result.alerts.map((a) => a.rule_id),
    ['critical-anomalies'],
  )
  assert.deepEqual([...delivered].sort(), ['incident-manager', 'pagerduty-oncall', 'sentinel-webhook', 'slack-incidents'])
  assert.ok(result.received.every((d) => d.verification.ok && d.alert?.alert_id === result.alerts[0]?.alert_id))
  assert.deepEqual(
    result.deliveries.map((d) => d.status),
    ['success', 'success', 'success', 'success'],
  )
  assert.equal(result.counters.fired, 1)
  assert.equal(result.counters.sent.success, 4)
  assert.deepEqual(result.api.anomalies, { status: 200, count: 1, firstId: result.anomalies[0]?.anomaly_id ?? null })
  assert.deepEqual(result.api.detectors, { status: 200, count: 14 })

  const summary = summarizeAlerts(result)
  assert.equal(summary.ok, true)
  assert.equal(summary.alertsDelivered, 1)
  assert.match(formatAlertSummary(summary), /alerts delivered: 1\/1 .* 4 signed requests received, 4 with a valid HMAC signature/)
})

test('the alert summary is not ok when a delivery failed its signature check, an alert never arrived or was not read', () => {
  const alert = { alert_id: 'a-1', rule_id: 'r' } as never
  const counters = { fired: 1, suppressed: { throttled: 2 }, sent: {} }
  const bad = { receiver: 'x', verification: { ok: false, reason: 'bad_signature' } as const, alert: null, at: 0 }
  assert.equal(summarizeAlerts({ alerts: [alert], received: [bad], deliveries: [], counters }).ok, false)
  assert.equal(summarizeAlerts({ alerts: [alert], received: [], deliveries: [], counters }).ok, false)
  // An alert fired but not read from the alerts topic (nothing delivered either) is not ok.
  assert.equal(summarizeAlerts({ alerts: [], received: [], deliveries: [], counters }).ok, false)
  const good = { receiver: 'x', verification: { ok: true, timestampMs: 0 } as const, alert, at: 0 }
  assert.equal(summarizeAlerts({ alerts: [alert], received: [good], deliveries: [], counters }).ok, true)
  assert.match(formatAlertSummary(summarizeAlerts({ alerts: [alert], received: [], deliveries: [], counters })), /held back: 2 \(throttled 2\)/)
})
