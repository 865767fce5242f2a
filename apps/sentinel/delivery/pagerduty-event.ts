/**
 * A PagerDuty Events API v2 `trigger` event for an alert
 * (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).
 *
 * `dedup_key` is the alert's group (rule id and its throttling group values), not the alert id: every
 * later alert of the same group, and any resend of the same alert, updates the one open incident
 * instead of paging again. Payload mapping: summary = title (≤ 1024 characters), source =
 * application, severity = critical | warning | info (Sentinel has no `error` level), timestamp =
 * the alert's, component = detector, group = application, class = rule id.
 */
import { createHash } from 'node:crypto'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import { isNotification } from '../alerting/alert-notification.js'
import { truncate } from './alert-links.js'

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info'

export interface PagerDutyEvent {
  readonly routing_key: string
  /** `resolve` for a lifecycle's resolved notification: closes the incident of the same dedup_key. */
  readonly event_action: 'trigger' | 'resolve'
  readonly dedup_key: string
  readonly client: string
  readonly client_url?: string
  readonly links?: readonly { readonly href: string; readonly text: string }[]
  readonly payload: {
    readonly summary: string
    readonly source: string
    readonly severity: PagerDutySeverity
    readonly timestamp: string
    readonly component: string
    readonly group: string
    readonly class: string
    readonly custom_details: Readonly<Record<string, unknown>>
  }
}

const SEVERITY: Record<AlertEvent['severity'], PagerDutySeverity> = { critical: 'critical', warning: 'warning', info: 'info' }

/** The alert's group as one string: `rule_id` then the group's `field=value` pairs, sorted. */
export function alertGroupKey(alert: AlertEvent): string {
  const pairs = Object.entries(alert.group)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
  return [alert.rule_id, ...pairs].join('|')
}

/** PagerDuty caps dedup_key at 255 characters; a longer group key is replaced by its hash. */
export function pagerDutyDedupKey(alert: AlertEvent): string {
  const key = `sentinel:${alertGroupKey(alert)}`
  return key.length <= 255 ? key : `sentinel:sha256:${createHash('sha256').update(key).digest('hex')}`
}

export function pagerDutyEvent(alert: AlertEvent, routingKey: string, link: string | null): PagerDutyEvent {
  const anomaly = alert.anomaly
  const application = alert.application_id ?? anomaly.application_id ?? 'llm-sentinel'
  const event: PagerDutyEvent = {
    routing_key: routingKey,
    event_action: isNotification(alert) && alert.notification.kind === 'resolved' ? 'resolve' : 'trigger',
    dedup_key: pagerDutyDedupKey(alert),
    client: 'LLM-Sentinel',
    payload: {
      summary: truncate(alert.title.length > 0 ? alert.title : `${alert.rule_name}: ${anomaly.detector_id}`, 1024),
      source: application,
      severity: SEVERITY[alert.severity],
      timestamp: alert.timestamp,
      component: anomaly.detector_id,
      group: application,
      class: alert.rule_id,
      custom_details: {
        alert_id: alert.alert_id,
        rule: alert.rule_name,
        description: alert.description,
        score: anomaly.score,
        anomaly_id: anomaly.anomaly_id,
        anomaly_ids: alert.anomaly_ids,
        group: alert.group,
        aggregation: alert.aggregation,
        suppressed_count: alert.suppressed_count,
        affected_entity: anomaly.affected_entity ?? null,
        metrics: anomaly.metrics ?? null,
        ...(anomaly.dimensions ? { dimensions: anomaly.dimensions } : {}),
      },
    },
  }
  return link === null ? event : { ...event, client_url: link, links: [{ href: link, text: 'Anomaly in LLM-Sentinel' }] }
}
