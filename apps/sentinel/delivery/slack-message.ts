/**
 * A Slack incoming-webhook message for an alert: `text` (the notification and fallback line) and
 * Block Kit `blocks` (a header, a fields section with severity, application, detector, score, rule,
 * link and the anomaly's group dimensions, the description, and a context line). Limits kept: header ≤ 150 characters, section
 * texts ≤ 3000, field texts ≤ 2000. `channel` is honoured by legacy webhooks only (newer ones post
 * to the channel they were created for).
 */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import { truncate } from './alert-links.js'

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn'
  readonly text: string
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text?: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }

export interface SlackMessage {
  readonly text: string
  readonly blocks: readonly SlackBlock[]
  readonly channel?: string
}

const SEVERITY_ICON: Record<AlertEvent['severity'], string> = { critical: ':red_circle:', warning: ':large_orange_circle:', info: ':large_blue_circle:' }

/** Slack mrkdwn needs only &, < and > escaped. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function slackMessage(alert: AlertEvent, options: { readonly channel: string | null; readonly link: string | null }): SlackMessage {
  const severity = alert.severity.toUpperCase()
  const anomaly = alert.anomaly
  const field = (label: string, value: string): SlackText => ({ type: 'mrkdwn', text: truncate(`*${label}*\n${value}`, 2000) })
  const fields: SlackText[] = [
    field('Severity', `${SEVERITY_ICON[alert.severity]} ${severity}`),
    field('Application', slackEscape(alert.application_id ?? anomaly.application_id ?? 'n/a')),
    field('Detector', slackEscape(anomaly.detector_id)),
    field('Score', anomaly.score.toFixed(2)),
    field('Rule', slackEscape(alert.rule_name)),
    field('Link', options.link === null ? `anomaly \`${anomaly.anomaly_id}\`` : `<${options.link}|View anomaly>`),
  ]
  // The group the detector judged (e.g. region=eu-west-1): where to look.
  const dimensions = Object.entries(anomaly.dimensions ?? {})
  if (dimensions.length > 0) fields.push(field('Group', slackEscape(dimensions.map(([k, v]) => `${k}=${v}`).join('\n'))))
  const context = [`alert \`${alert.alert_id}\``, `${alert.anomaly_ids.length} anomal${alert.anomaly_ids.length === 1 ? 'y' : 'ies'}`, `at ${alert.timestamp}`]
  if (alert.suppressed_count > 0) context.push(`${alert.suppressed_count} repeat(s) suppressed`)
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${severity}: ${alert.title}`, 150) } },
    { type: 'section', fields },
  ]
  if (alert.description.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(slackEscape(alert.description), 3000) } })
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] })
  const message: SlackMessage = { text: truncate(`[${severity}] ${slackEscape(alert.title)} (${slackEscape(alert.application_id ?? anomaly.detector_id)})`, 3000), blocks }
  return options.channel === null ? message : { ...message, channel: options.channel }
}
