/**
 * The alerting half of the demo's summary: alerts fired by the alert manager, deliveries to the local
 * receiver with their signature checks, what the deliveries topic recorded, and what the rules held
 * back (throttled, outside their schedule, in a maintenance window), from the metrics registry.
 */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { DeliveryRecord } from '../delivery/delivery-record.js'
import type { AlertCounters } from './app-run.js'
import type { ReceivedDelivery } from './webhook-receiver.js'

export interface AlertSummaryInput {
  readonly alerts: readonly AlertEvent[]
  readonly received: readonly ReceivedDelivery[]
  readonly deliveries: readonly DeliveryRecord[]
  readonly counters: AlertCounters
}

export interface AlertSummary {
  readonly fired: number
  readonly firedByRule: ReadonlyMap<string, number>
  /** Requests the receiver got / of them with a valid signature. */
  readonly received: number
  readonly verified: number
  /** Distinct alerts at least one of whose deliveries verified. */
  readonly alertsDelivered: number
  /** Deliveries topic records by status. */
  readonly recorded: ReadonlyMap<string, number>
  readonly suppressed: Readonly<Record<string, number>>
  /** Alerts counted fired by the alert manager (its metric), to check the alerts topic was read whole. */
  readonly firedCounted: number
  /** Every received request verified, every alert fired was read and reached the receiver at least once. */
  readonly ok: boolean
}

const countBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, number> => {
  const out = new Map<string, number>()
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1)
  return out
}

export function summarizeAlerts(input: AlertSummaryInput): AlertSummary {
  const verified = input.received.filter((d) => d.verification.ok)
  const deliveredIds = new Set(verified.flatMap((d) => (d.alert ? [d.alert.alert_id] : [])))
  const alertsDelivered = input.alerts.filter((a) => deliveredIds.has(a.alert_id)).length
  return {
    fired: input.alerts.length,
    firedByRule: countBy(input.alerts, (a) => a.rule_id),
    received: input.received.length,
    verified: verified.length,
    alertsDelivered,
    recorded: countBy(input.deliveries, (d) => d.status),
    suppressed: input.counters.suppressed,
    firedCounted: input.counters.fired,
    ok: verified.length === input.received.length && alertsDelivered === input.alerts.length && input.alerts.length === input.counters.fired,
  }
}

const list = (entries: Iterable<[string, number]>): string =>
  [...entries]
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none'

export function formatAlertSummary(summary: AlertSummary): string {
  const suppressedTotal = Object.values(summary.suppressed).reduce((a, b) => a + b, 0)
  return [
    `alerts fired: ${summary.fired} (${list(summary.firedByRule)})${summary.firedCounted === summary.fired ? '' : `; the alert manager counted ${summary.firedCounted}`}`,
    `alerts delivered: ${summary.alertsDelivered}/${summary.fired} to the local webhook receiver; ${summary.received} signed requests received, ${summary.verified} with a valid HMAC signature`,
    `deliveries recorded on the deliveries topic: ${list(summary.recorded)}`,
    `alert-rule firings held back: ${suppressedTotal} (${list(Object.entries(summary.suppressed))})`,
  ].join('\n')
}
