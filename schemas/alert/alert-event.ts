/**
 * AlertEvent: what the alert manager writes to the alerts topic (the alert history) and what the
 * dispatcher delivers to receivers. One alert = one rule firing for one group (the rule's
 * throttling `grouping` fields) in one aggregation window. Field names are snake_case like
 * AnomalyEvent, so the JSON on the topic and in webhook bodies is the same object.
 */
import type { AnomalySeverity } from '../anomaly/anomaly-severity.js'
import type { AnomalyEvent } from '../anomaly/anomaly-event.js'

/** A rule action (seed AlertDefinition `actions[]`): what to do when the rule fires. */
export interface AlertAction {
  readonly type: 'notification' | 'shield' | 'webhook' | 'incident'
  /** Action-specific settings as written in the rule (receivers, priority, severity, action, duration, ...). */
  readonly config: Readonly<Record<string, unknown>>
}

export interface AlertAggregation {
  readonly function: 'count' | 'avg' | 'sum' | 'max' | 'min'
  /** The aggregated value (of anomaly scores; `count` counts anomalies) that crossed the threshold. */
  readonly value: number
  readonly threshold: number
  readonly window_start: string
  readonly window_end: string
}

export interface AlertEvent {
  /** Deterministic (UUIDv5 of rule id, group key and window start): a replay yields the same id. */
  readonly alert_id: string
  readonly rule_id: string
  readonly rule_name: string
  /** ISO-8601 event time the alert fired (of the anomaly that made it fire). */
  readonly timestamp: string
  /** The highest severity among its anomalies. */
  readonly severity: AnomalySeverity
  /** The throttling grouping fields and their values, e.g. { application_id: 'chatbot', detector_id: 'x' }. */
  readonly group: Readonly<Record<string, string>>
  readonly title: string
  readonly description: string
  readonly application_id: string | null
  /** Ids of the anomalies that made this alert (deduplicated). */
  readonly anomaly_ids: readonly string[]
  /** The anomaly that made the rule fire (the latest one), for receivers that describe one anomaly. */
  readonly anomaly: AnomalyEvent
  readonly aggregation: AlertAggregation | null
  /** Repeats of this group suppressed by throttling since the previous alert of the group. */
  readonly suppressed_count: number
  readonly actions: readonly AlertAction[]
}
