/**
 * What one delivery sends: an alert, for one receiver, because of one rule action — an HTTP request,
 * or for an email receiver a message over SMTP. Bodies are built once per delivery; a signature
 * (generic webhook with a secret) is made per attempt, so a retry carries a fresh timestamp.
 */
import type { AlertAction, AlertEvent } from '../../../schemas/alert/alert-event.js'
import { anomalyLink } from './alert-links.js'
import { type EmailMessage, emailMessage } from './email-message.js'
import { incidentRequest } from './incident-request.js'
import { pagerDutyEvent } from './pagerduty-event.js'
import type { EmailReceiver, ReceiverConfig } from './receivers-config.js'
import { shieldActionRequest } from './shield-action.js'
import { slackMessage } from './slack-message.js'
import { signWebhook } from './webhook-signature.js'

export interface EmailDeliveryRequest {
  readonly kind: 'email'
  readonly smtpUrl: string
  readonly message: EmailMessage
}

export type DeliveryRequest = HttpDeliveryRequest | EmailDeliveryRequest

export interface HttpDeliveryRequest {
  readonly kind?: 'http'
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Headers made at each attempt (the HMAC signature and its timestamp). */
  readonly sign: ((nowMs: number) => Record<string, string>) | null
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'User-Agent': 'llm-sentinel-alert-dispatcher' }

export function buildDeliveryRequest(receiver: Exclude<ReceiverConfig, EmailReceiver>, alert: AlertEvent, action: AlertAction | null, publicUrl: string | null): HttpDeliveryRequest
export function buildDeliveryRequest(receiver: ReceiverConfig, alert: AlertEvent, action: AlertAction | null, publicUrl: string | null): DeliveryRequest
export function buildDeliveryRequest(receiver: ReceiverConfig, alert: AlertEvent, action: AlertAction | null, publicUrl: string | null): DeliveryRequest {
  switch (receiver.type) {
    case 'email':
      return { kind: 'email', smtpUrl: receiver.smtpUrl, message: emailMessage(alert, receiver, anomalyLink(alert, publicUrl)) }
    case 'webhook': {
      const body = JSON.stringify(alert)
      const secret = receiver.secret
      return { url: receiver.url, headers: { ...receiver.headers, ...JSON_HEADERS }, body, sign: secret === null ? null : (now) => signWebhook(body, secret, now) }
    }
    case 'slack':
      return { url: receiver.webhookUrl, headers: JSON_HEADERS, body: JSON.stringify(slackMessage(alert, { channel: receiver.channel, link: anomalyLink(alert, publicUrl) })), sign: null }
    case 'pagerduty':
      return { url: receiver.url, headers: JSON_HEADERS, body: JSON.stringify(pagerDutyEvent(alert, receiver.routingKey, anomalyLink(alert, publicUrl))), sign: null }
    case 'incident-manager':
      return {
        url: `${receiver.endpoint}/api/v1/incidents`,
        headers: { ...JSON_HEADERS, Authorization: `Bearer ${receiver.apiKey}` },
        body: JSON.stringify(incidentRequest(alert, action, receiver.severityMap)),
        sign: null,
      }
    case 'shield':
      return { url: `${receiver.endpoint}/v1/actions`, headers: JSON_HEADERS, body: JSON.stringify(shieldActionRequest(alert, action, receiver)), sign: null }
  }
}
