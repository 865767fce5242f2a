/**
 * What the alert lifecycle (alert-lifecycle.ts) hands the dispatcher, on the notifications topic
 * (JSON, keyed by notification group): an AlertEvent — the group's latest alert, so every payload
 * builder keeps working on one alert — carrying `notification`, which says what kind of message
 * this is (firing, resolved, escalation, or a state change that is delivered nowhere), which
 * alerts it covers (one batch per group flush) and for which group. Its `actions` are where it goes.
 *
 * Also here: the lifecycle's inputs (alerts, "still seen" marks, API commands) and the group key,
 * which the API computes too, to send an acknowledgement to the task that holds the alert.
 */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'

/** What grouping reads of a rule (its `labels:`). */
export interface RuleLabels {
  readonly labels: Readonly<Record<string, string>>
}

export const NOTIFICATION_KINDS = ['firing', 'resolved', 'escalation', 'acknowledged'] as const
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number]

/** One alert of a notification's batch, as templates and receivers see it. */
export interface NotifiedAlert {
  readonly alert_id: string
  readonly rule_id: string
  readonly rule_name: string
  readonly title: string
  readonly severity: AlertEvent['severity']
  readonly timestamp: string
  readonly application_id: string | null
  readonly detector_id: string
}

export interface NotificationInfo {
  /** Deterministic: UUIDv5 of (group key, sequence number); a redelivery keeps it. */
  readonly notification_id: string
  readonly kind: NotificationKind
  readonly group_key: string
  /** The grouping labels and their values (the notification group). */
  readonly group_labels: Readonly<Record<string, string>>
  /** Every alert this notification is about (the batch); the dispatcher records a delivery for each. */
  readonly alerts: readonly NotifiedAlert[]
  /** escalation: the level (1-based) reached; else null. */
  readonly escalation_level: number | null
  /** acknowledged / resolved: who did it (null: auto-resolve). */
  readonly by: string | null
  /** ISO-8601 wall-clock time the lifecycle decided it. */
  readonly at: string
}

export type AlertNotification = AlertEvent & { readonly notification: NotificationInfo }

export const isNotification = (alert: AlertEvent): alert is AlertNotification =>
  typeof (alert as Partial<AlertNotification>).notification === 'object' && (alert as Partial<AlertNotification>).notification !== null

/** A command of the API (`PUT /api/v1/alerts/:id`), keyed by the alert's notification group key. */
export interface AlertCommand {
  readonly type: 'command'
  readonly command: 'acknowledge' | 'resolve'
  readonly alert_id: string
  readonly by: string | null
  readonly note: string | null
  /** ISO-8601 wall clock of the API. */
  readonly at: string
}

/** What the lifecycle reads, merged into one repartition by notification group key. */
export type LifecycleInput =
  | { readonly type: 'alert'; readonly alert: AlertEvent }
  /** An anomaly matched a rule for this rule group: its alerts' condition still holds. */
  | { readonly type: 'seen'; readonly rule_group: string }
  | AlertCommand

export function isAlertCommand(value: unknown): value is AlertCommand {
  const v = value as Partial<AlertCommand> | null
  return (
    typeof v === 'object' && v !== null && v.type === 'command' && (v.command === 'acknowledge' || v.command === 'resolve') &&
    typeof v.alert_id === 'string' && typeof v.at === 'string' && (v.by === null || typeof v.by === 'string') && (v.note === null || typeof v.note === 'string')
  )
}

/** An alert's rule group: `rule_id` then its group's `field=value` pairs, sorted (also PagerDuty's dedup key). */
export function ruleGroupKey(ruleId: string, group: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(group)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
  return [ruleId, ...pairs].join('|')
}

/** The labels `groupingLabels` reads of every anomaly (the rule's fields, its labels and the anomaly's dimensions come on top). */
export const ANOMALY_GROUPING_LABELS = ['rule', 'severity', 'detector_id', 'application_id', 'application', 'tenant_id', 'affected_entity.type', 'affected_entity.id'] as const

/**
 * The labels notification grouping reads, from a rule's match of an anomaly (so an alert and a later
 * anomaly of its condition land in the same group): `rule` (the rule id, Alertmanager's
 * alertname), `severity` (the anomaly's), `detector_id`, `application_id` (also as `application`,
 * the seed's name), `tenant_id`, `affected_entity.type` / `.id`, the rule group's fields, the
 * anomaly's `dimensions` (its detector's groupBy field and value, e.g. `region`), the rule's labels
 * (e.g. `team`). Missing values are left out; an earlier label is never overwritten by a later one.
 */
export function groupingLabels(ruleId: string, group: Readonly<Record<string, string>>, anomaly: AnomalyEvent, ruleLabels: Readonly<Record<string, string>> = {}): Record<string, string> {
  const labels: Record<string, string> = { rule: ruleId, severity: anomaly.severity, detector_id: anomaly.detector_id }
  if (anomaly.application_id !== null) {
    labels.application_id = anomaly.application_id
    labels.application = anomaly.application_id
  }
  if (anomaly.tenant_id !== null) labels.tenant_id = anomaly.tenant_id
  if (anomaly.affected_entity?.type) labels['affected_entity.type'] = anomaly.affected_entity.type
  if (anomaly.affected_entity?.id) labels['affected_entity.id'] = anomaly.affected_entity.id
  for (const [k, v] of Object.entries(group)) if (v !== '' && labels[k] === undefined) labels[k] = v
  for (const [k, v] of Object.entries(anomaly.dimensions ?? {})) if (labels[k] === undefined) labels[k] = v
  for (const [k, v] of Object.entries(ruleLabels)) if (labels[k] === undefined) labels[k] = v
  return labels
}

/** An alert's labels, as silences match them: its grouping labels, with `severity` the alert's and `alert_id`. */
export function alertLabels(alert: AlertEvent, ruleLabels: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...groupingLabels(alert.rule_id, alert.group, alert.anomaly, ruleLabels), severity: alert.severity, alert_id: alert.alert_id }
}

/**
 * The notification group of a rule's match of an anomaly (an alert: its rule, group and anomaly):
 * the `groupBy` labels and their values, and the key (percent-encoded; a missing label written
 * without `=`). No groupBy: the rule group (rule id and its grouping values) is the group.
 */
export function notificationGroup(ruleId: string, group: Readonly<Record<string, string>>, anomaly: AnomalyEvent, rule: RuleLabels | undefined, groupBy: readonly string[] | null): { key: string; labels: Record<string, string> } {
  if (groupBy === null) return { key: `rule_group=${encodeURIComponent(ruleGroupKey(ruleId, group))}`, labels: { rule: ruleId, ...Object.fromEntries(Object.entries(group).filter(([, v]) => v !== '')) } }
  const all = groupingLabels(ruleId, group, anomaly, rule?.labels)
  const labels: Record<string, string> = {}
  const parts = groupBy.map((name) => {
    const value = all[name]
    if (value === undefined) return encodeURIComponent(name)
    labels[name] = value
    return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`
  })
  return { key: parts.join('|'), labels }
}

/** `notificationGroup` of an alert. */
export const notificationGroupOf = (alert: AlertEvent, rule: RuleLabels | undefined, groupBy: readonly string[] | null): { key: string; labels: Record<string, string> } =>
  notificationGroup(alert.rule_id, alert.group, alert.anomaly, rule, groupBy)

export function notifiedAlert(alert: AlertEvent): NotifiedAlert {
  return {
    alert_id: alert.alert_id,
    rule_id: alert.rule_id,
    rule_name: alert.rule_name,
    title: alert.title,
    severity: alert.severity,
    timestamp: alert.timestamp,
    application_id: alert.application_id,
    detector_id: alert.anomaly.detector_id,
  }
}
