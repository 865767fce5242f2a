/**
 * The alert manager's Prometheus metrics. Without a registry they go to a private one nobody
 * scrapes, so an increment stays cheap and the processors need no `if (metrics)` branches.
 */
import { Counter, Registry } from 'prom-client'

export type SuppressionReason = 'throttled' | 'schedule' | 'maintenance'
export type DropReason = 'duplicate' | 'late' | 'unknown_rule'

export class AlertingMetrics {
  readonly registry: Registry
  /** Alerts written to the alerts topic, by rule. */
  readonly fired: Counter<'rule'>
  /** Firings not written, by rule and why. */
  readonly suppressed: Counter<'rule' | 'reason'>
  /** Anomalies the alert manager dropped before judging them, by why. */
  readonly dropped: Counter<'reason'>
  /** Alerts that matched a route but were not routed there (inside its repeat_interval), by route index. */
  readonly routeRepeats: Counter<'route'>

  constructor(registry?: Registry) {
    this.registry = registry ?? new Registry()
    const registers = [this.registry]
    // Two alerting topologies on one registry share the series instead of failing to register.
    const existing = <T>(name: string): T | undefined => this.registry.getSingleMetric(name) as T | undefined
    this.fired = existing('sentinel_alerts_fired_total') ?? new Counter({ name: 'sentinel_alerts_fired_total', help: 'Alerts written to the alerts topic, by rule', labelNames: ['rule'], registers })
    this.suppressed =
      existing('sentinel_alerts_suppressed_total') ??
      new Counter({ name: 'sentinel_alerts_suppressed_total', help: 'Rule firings not alerted: throttled (max_frequency), outside the schedule, or in a maintenance window', labelNames: ['rule', 'reason'], registers })
    this.dropped =
      existing('sentinel_alerting_anomalies_dropped_total') ??
      new Counter({ name: 'sentinel_alerting_anomalies_dropped_total', help: 'Anomalies dropped by the alert manager: duplicate anomaly_id, later than its grace, or of a rule no longer configured', labelNames: ['reason'], registers })
    this.routeRepeats =
      existing('sentinel_alert_route_repeats_total') ??
      new Counter({ name: 'sentinel_alert_route_repeats_total', help: "Alerts not sent to a matching route's receivers because the group was routed there within its repeat_interval, by route index", labelNames: ['route'], registers })
  }
}
