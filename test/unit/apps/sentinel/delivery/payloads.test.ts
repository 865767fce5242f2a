import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { buildDeliveryRequest } from '../../../../../apps/sentinel/delivery/delivery-request.js'
import { incidentRequest } from '../../../../../apps/sentinel/delivery/incident-request.js'
import { alertGroupKey, pagerDutyDedupKey, pagerDutyEvent } from '../../../../../apps/sentinel/delivery/pagerduty-event.js'
import { DEFAULT_DELIVERY, DEFAULT_SEVERITY_MAP, type ReceiverConfig } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { shieldActionId, shieldActionRequest } from '../../../../../apps/sentinel/delivery/shield-action.js'
import { slackMessage } from '../../../../../apps/sentinel/delivery/slack-message.js'
import { verifyWebhookSignature } from '../../../../../apps/sentinel/delivery/webhook-signature.js'
import { sampleAlert } from './fixtures.js'

const delivery = DEFAULT_DELIVERY

describe('generic webhook', () => {
  test('the body is the AlertEvent JSON, signed per attempt when a secret is set', () => {
    const alert = sampleAlert()
    const receiver: ReceiverConfig = { name: 'hook', type: 'webhook', url: 'https://h/x', secret: 'k', headers: { 'X-Team': 'ml' }, delivery }
    const request = buildDeliveryRequest(receiver, alert, alert.actions[0] ?? null, null)
    assert.equal(request.url, 'https://h/x')
    assert.deepEqual(JSON.parse(request.body), alert)
    assert.equal(request.headers['Content-Type'], 'application/json')
    assert.equal(request.headers['X-Team'], 'ml')
    assert.ok(request.sign)
    const at = Date.parse('2026-01-01T00:00:00Z')
    assert.equal(verifyWebhookSignature(request.body, request.sign(at), 'k', 1000, at).ok, true)
    const unsigned = buildDeliveryRequest({ ...receiver, secret: null }, alert, null, null)
    assert.equal(unsigned.sign, null)
  })
})

describe('Slack incoming-webhook message', () => {
  test('text plus blocks with severity, application, detector, score, rule, link and group fields', () => {
    const message = slackMessage(sampleAlert({ title: 'Spike <b> & co' }), { channel: '#incidents', link: 'http://sentinel:8080/api/v1/anomalies/660e' })
    assert.equal(message.text, '[CRITICAL] Spike &lt;b&gt; &amp; co (chatbot-prod)')
    assert.equal(message.channel, '#incidents')
    const [header, fields, description, context] = message.blocks
    assert.deepEqual(header, { type: 'header', text: { type: 'plain_text', text: 'CRITICAL: Spike <b> & co' } })
    assert.ok(fields?.type === 'section' && fields.fields)
    assert.deepEqual(
      fields.fields.map((f) => f.text),
      [
        '*Severity*\n:red_circle: CRITICAL',
        '*Application*\nchatbot-prod',
        '*Detector*\ntoken-rate-spike',
        '*Score*\n0.87',
        '*Rule*\nCritical anomalies',
        '*Link*\n<http://sentinel:8080/api/v1/anomalies/660e|View anomaly>',
        '*Group*\nmodel=gpt-4',
      ],
    )
    const ungrouped = slackMessage(sampleAlert({ anomaly: { ...sampleAlert().anomaly, dimensions: null } }), { channel: null, link: null }).blocks[1]
    assert.ok(ungrouped?.type === 'section')
    assert.equal(ungrouped.fields?.length, 6, 'no Group field for an anomaly without dimensions')
    assert.deepEqual(description, { type: 'section', text: { type: 'mrkdwn', text: 'Token processing rate increased by 450% above baseline' } })
    assert.equal(context?.type, 'context')
    const noLink = slackMessage(sampleAlert(), { channel: null, link: null })
    assert.equal('channel' in noLink, false)
    const linkField = noLink.blocks[1]
    assert.ok(linkField?.type === 'section')
    assert.equal(linkField.fields?.[5]?.text, '*Link*\nanomaly `660e8400-e29b-41d4-a716-446655440001`')
  })

  test('a long title is cut to Slack\'s 150-character header limit', () => {
    const header = slackMessage(sampleAlert({ title: 'x'.repeat(500) }), { channel: null, link: null }).blocks[0]
    assert.ok(header?.type === 'header')
    assert.equal(header.text.text.length, 150)
    assert.ok(header.text.text.endsWith('…'))
  })
})

describe('PagerDuty Events API v2', () => {
  test('a trigger event with dedup_key = the alert group, and the documented payload mapping', () => {
    const alert = sampleAlert()
    const event = pagerDutyEvent(alert, 'ROUTING', 'http://s/api/v1/anomalies/1')
    assert.equal(event.routing_key, 'ROUTING')
    assert.equal(event.event_action, 'trigger')
    assert.equal(event.dedup_key, 'sentinel:critical-anomalies|application_id=chatbot-prod|detector_id=token-rate-spike')
    assert.deepEqual(
      { ...event.payload, custom_details: undefined },
      {
        summary: 'Token rate spike detected in chatbot-prod',
        source: 'chatbot-prod',
        severity: 'critical',
        timestamp: '2025-11-06T12:35:00.000Z',
        component: 'token-rate-spike',
        group: 'chatbot-prod',
        class: 'critical-anomalies',
        custom_details: undefined,
      },
    )
    assert.equal(event.payload.custom_details.alert_id, alert.alert_id)
    assert.equal(event.payload.custom_details.score, 0.87)
    assert.deepEqual(event.payload.custom_details.dimensions, { model: 'gpt-4' }, "the detector's group, for the responder")
    assert.deepEqual(event.links, [{ href: 'http://s/api/v1/anomalies/1', text: 'Anomaly in LLM-Sentinel' }])
    assert.equal(pagerDutyEvent(sampleAlert({ severity: 'warning' }), 'k', null).payload.severity, 'warning')
    assert.equal(pagerDutyEvent(sampleAlert({ severity: 'info' }), 'k', null).payload.severity, 'info')
  })

  test('repeats of a group share the dedup_key whatever their alert id; other groups do not', () => {
    const a = sampleAlert()
    assert.equal(pagerDutyDedupKey(sampleAlert({ alert_id: 'another', group: { application_id: 'chatbot-prod', detector_id: 'token-rate-spike' } })), pagerDutyDedupKey(a))
    assert.notEqual(pagerDutyDedupKey(sampleAlert({ group: { application_id: 'other', detector_id: 'token-rate-spike' } })), pagerDutyDedupKey(a))
    assert.equal(alertGroupKey(a), 'critical-anomalies|application_id=chatbot-prod|detector_id=token-rate-spike')
  })

  test('summary ≤ 1024 characters and dedup_key ≤ 255', () => {
    const event = pagerDutyEvent(sampleAlert({ title: 'y'.repeat(5000), group: { user_id: 'u'.repeat(400) } }), 'k', null)
    assert.equal(event.payload.summary.length, 1024)
    assert.ok(event.dedup_key.length <= 255)
    assert.match(event.dedup_key, /^sentinel:sha256:[0-9a-f]{64}$/)
  })
})

describe('Incident Manager (seed 001)', () => {
  test('POST {endpoint}/api/v1/incidents with a Bearer key and the seed\'s body', () => {
    const alert = sampleAlert()
    const receiver: ReceiverConfig = { name: 'im', type: 'incident-manager', endpoint: 'https://im.example.com', apiKey: 'KEY', severityMap: DEFAULT_SEVERITY_MAP, delivery }
    const request = buildDeliveryRequest(receiver, alert, { type: 'incident', config: {} }, null)
    assert.equal(request.url, 'https://im.example.com/api/v1/incidents')
    assert.equal(request.headers.Authorization, 'Bearer KEY')
    const body = JSON.parse(request.body)
    assert.equal(body.source, 'llm-sentinel')
    assert.equal(body.incident_type, 'anomaly_detected')
    assert.equal(body.severity, 'P1')
    assert.equal(body.title, alert.title)
    assert.equal(body.description, alert.description)
    assert.deepEqual(body.metadata, {
      anomaly_id: '660e8400-e29b-41d4-a716-446655440001',
      detector_id: 'token-rate-spike',
      application_id: 'chatbot-prod',
      score: 0.87,
      timestamp: '2025-11-06T12:35:00.000Z',
      alert_id: alert.alert_id,
      rule_id: 'critical-anomalies',
      anomaly_ids: alert.anomaly_ids,
    })
    assert.deepEqual(body.affected_entities, [
      { type: 'model', id: 'gpt-4', name: 'GPT-4 Turbo' },
      { type: 'application', id: 'chatbot-prod', name: 'chatbot-prod' },
    ])
    assert.ok(body.remediation_actions.length >= 2)
    assert.deepEqual(body.tags, ['anomaly:token-rate-spike', 'application:chatbot-prod'])
  })

  test('severity: the action\'s config.severity wins, else the receiver\'s map', () => {
    assert.equal(incidentRequest(sampleAlert({ severity: 'warning' }), { type: 'incident', config: { severity: 'P1' } }, DEFAULT_SEVERITY_MAP).severity, 'P1')
    assert.equal(incidentRequest(sampleAlert({ severity: 'warning' }), null, DEFAULT_SEVERITY_MAP).severity, 'P2')
    assert.equal(incidentRequest(sampleAlert({ severity: 'info' }), null, { ...DEFAULT_SEVERITY_MAP, info: 'P4' }).severity, 'P4')
    assert.deepEqual(incidentRequest(sampleAlert(), { type: 'incident', config: { remediation_actions: ['Page the team'] } }, DEFAULT_SEVERITY_MAP).remediation_actions, ['Page the team'])
  })
})

describe('Shield ActionRequest (seed 001) as JSON', () => {
  const shield = { name: 'shield', action: 'RATE_LIMIT' as const, durationMs: 900_000 }

  test('POST {endpoint}/v1/actions; the rule action\'s type, target and duration win over the receiver\'s', () => {
    const alert = sampleAlert({ group: { user_id: 'u-42', detector_id: 'user-behaviour-anomaly' } })
    const receiver: ReceiverConfig = { ...shield, type: 'shield', endpoint: 'http://shield:8080', delivery }
    const request = buildDeliveryRequest(receiver, alert, { type: 'shield', config: { action: 'block', target: 'user', duration: '1h', parameters: { reason: 'Prompt injection detected', severity: 'critical', ttl: 5 } } }, null)
    assert.equal(request.url, 'http://shield:8080/v1/actions')
    const body = JSON.parse(request.body)
    assert.deepEqual(body, {
      action_id: shieldActionId(alert.alert_id, 'shield'),
      type: 'BLOCK',
      target_entity: 'user:u-42',
      reason: 'Prompt injection detected',
      duration: '3600s',
      parameters: { reason: 'Prompt injection detected', severity: 'critical', ttl: '5', alert_id: alert.alert_id, rule_id: 'critical-anomalies', anomaly_id: '660e8400-e29b-41d4-a716-446655440001', score: '0.87' },
    })
  })

  test('falls back to the receiver\'s action and duration, and the anomaly\'s affected entity', () => {
    const request = shieldActionRequest(sampleAlert(), { type: 'shield', config: {} }, shield)
    assert.equal(request.type, 'RATE_LIMIT')
    assert.equal(request.duration, '900s')
    assert.equal(request.target_entity, 'model:gpt-4')
    assert.equal(request.reason, 'Token rate spike detected in chatbot-prod')
    assert.equal('duration' in shieldActionRequest(sampleAlert(), null, { ...shield, durationMs: null }), false)
  })

  test('action_id is a stable UUIDv5 of alert and receiver', () => {
    const id = shieldActionId('a-1', 'shield')
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(shieldActionId('a-1', 'shield'), id)
    assert.notEqual(shieldActionId('a-1', 'shield-2'), id)
  })
})
