/**
 * One record per (alert, receiver) on the deliveries topic (default `alert-deliveries`): the history
 * of what was sent where, and how it went. JSON, or DeliveryRecord.avsc in the registry wire format
 * when a registry is configured (topic-serdes.ts); keyed by alert_id (so an alert's deliveries share
 * its partition and stay in order).
 */
import type { AlertAction } from '../../../schemas/alert/alert-event.js'
import type { ReceiverType } from './receivers-config.js'
import type { DeliveryStatus } from './receiver-client.js'

export interface DeliveryRecord {
  /** Null only for a record that could not be read as an alert and had no key. */
  readonly alert_id: string | null
  readonly rule_id: string | null
  /** Receiver name (`webhook:<url>` for an inline webhook); null when no receiver was resolved. */
  readonly receiver: string | null
  /** The receiver's type; null when no receiver was resolved. */
  readonly type: ReceiverType | null
  /** The rule action that routed the alert here; null for an unreadable alert. */
  readonly action: AlertAction['type'] | null
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly last_error: string | null
  readonly http_status: number | null
  readonly duration_ms: number
  /** ISO-8601 time the outcome was known. */
  readonly at: string
}
