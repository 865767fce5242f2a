/**
 * The email of an alert (email receivers): subject the alert's title, a plain-text body with what a
 * person on call needs to start (what fired, the anomaly, where to look). Plain text only: no HTML
 * to escape, and every mail client shows it.
 */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { EmailReceiver } from './receivers-config.js'

export interface EmailMessage {
  readonly from: string
  readonly to: readonly string[]
  readonly subject: string
  readonly text: string
  /** Lets a mail client thread an alert's repeats, and a receiver deduplicate a redelivery. */
  readonly headers: Readonly<Record<string, string>>
}

export function emailMessage(alert: AlertEvent, receiver: Pick<EmailReceiver, 'from' | 'to'>, link: string | null): EmailMessage {
  const a = alert.anomaly
  const lines = [
    alert.description,
    '',
    `Rule: ${alert.rule_name} (${alert.rule_id})`,
    `Severity: ${alert.severity}`,
    `Fired at: ${alert.timestamp}`,
    ...Object.entries(alert.group).map(([k, v]) => `${k}: ${v}`),
    `Anomaly: ${a.detector_id}, score ${a.score.toFixed(2)}${a.title ? ` - ${a.title}` : ''}`,
    ...(alert.anomaly_ids.length > 1 ? [`Anomalies in this alert: ${alert.anomaly_ids.length}`] : []),
    ...(a.context && a.context.related_anomalies.length > 0 ? [`Related anomalies: ${a.context.related_anomalies.length}`] : []),
    ...(alert.suppressed_count > 0 ? [`Suppressed since the previous alert: ${alert.suppressed_count}`] : []),
    ...(link === null ? [] : ['', link]),
    '',
    `alert_id: ${alert.alert_id}`,
  ]
  return { from: receiver.from, to: receiver.to, subject: alert.title, text: lines.join('\n'), headers: { 'X-Sentinel-Alert-Id': alert.alert_id } }
}
