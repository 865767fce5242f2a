/**
 * Listing alerts: the alert view's filter and order for the keyset pagination of keyset-pages.ts
 * (alert timestamp descending, then alert_id descending).
 */
import type { AnomalySeverity } from '../../../operators/detectors/severity.js'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import { type AlertRecord, type AlertStatus, alertStatus } from '../alert-view.js'
import { type Listing, type TimeRange, inTimeRange } from './keyset-pages.js'

export interface AlertFilter extends TimeRange {
  readonly severity?: AnomalySeverity
  readonly rule_id?: string
  readonly application_id?: string
  readonly status?: AlertStatus
}

/** A listed alert: an entry of the view that has its alert, with its delivery status. */
export type ListedAlert = Omit<AlertRecord, 'alert' | 'updated_at' | 'lifecycle'> & { readonly alert: AlertEvent; readonly status: AlertStatus; readonly lifecycle: AlertRecord['lifecycle'] | null }

export function toListedAlert(entry: AlertRecord, alert: AlertEvent): ListedAlert {
  return { alert, status: alertStatus(entry), deliveries: entry.deliveries, silenced_by: entry.silenced_by, silenced_at: entry.silenced_at, silence_note: entry.silence_note, lifecycle: entry.lifecycle ?? null }
}

/** The entry as listed, or null when it has no alert yet or fails the filter. */
export function listedAlert(entry: AlertRecord, filter: AlertFilter): ListedAlert | null {
  const alert = entry.alert
  if (alert === null || !inTimeRange(Date.parse(alert.timestamp), filter)) return null
  if (filter.severity !== undefined && alert.severity !== filter.severity) return null
  if (filter.rule_id !== undefined && alert.rule_id !== filter.rule_id) return null
  if (filter.application_id !== undefined && alert.application_id !== filter.application_id) return null
  const item = toListedAlert(entry, alert)
  return filter.status === undefined || item.status === filter.status ? item : null
}

export const alertListing: Listing<AlertRecord, AlertFilter, ListedAlert> = {
  select: listedAlert,
  position: (item) => ({ t: Date.parse(item.alert.timestamp), id: item.alert.alert_id }),
}
