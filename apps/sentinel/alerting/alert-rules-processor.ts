/**
 * The alert rules' state machine, per group (the sub-topology's source key `rule_id|field=value|...`):
 * aggregation window → schedule and maintenance → throttling → AlertEvent.
 *
 * Time is the anomaly's event time (its record timestamp), never the wall clock, so a replay makes
 * the same decisions and the same alert ids. A window fires as soon as its aggregate crosses the
 * threshold (not when it closes: alerting latency is the seed's p99 < 500 ms), once. A firing outside
 * the rule's schedule or inside a maintenance window is dropped (counted, logged) and its window
 * stays fired: an alert is about the moment the condition was met, not replayed when hours resume.
 * Throttled firings are counted per group and reported by the group's next alert.
 *
 * Stores (keyed by group key, logged, prefetched per batch; always present, so a live version can
 * add aggregation, throttling or a repeat_interval where the start-up rules had none):
 * - windows: a window store of each group's aggregation windows (rules with aggregation only). One
 *   store serves every rule: its prefetch asks, per key, for the window of each distinct rule window
 *   size in force. Rule ids are part of the keys, and a stored window whose size is not its rule's
 *   current one (the rule's window size changed live) is ignored and overwritten: the rule starts
 *   that window fresh, sizes never mix. Retention: the store's window capacity + grace.
 * - throttles: last alert time and id and the suppressed count per group (rules with max_frequency
 *   > 0 only); entries idle longer than the largest max_frequency + 1 day are removed by an hourly
 *   stream-time punctuator.
 */
import type { Logger } from 'pino'
import type { AlertAction, AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import { StoreMissError } from '../../../state/index.js'
import type { KeyValueStore, WindowStore } from '../../../state/types.js'
import type { KeyValueStoreDefinition, Processor, ProcessorContext, StreamRecord, WindowStoreDefinition } from '../../../topology/index.js'
import { alertId } from './alert-id.js'
import type { AlertRule } from './alert-rules-config.js'
import { matchingRoutes, routeAction } from './alert-routing.js'
import { detectorActionsRule, ruleLabel, withDetectorRequests } from './detector-action-alerts.js'
import { alertDescription, alertTitle } from './alert-text.js'
import { type AlertWindowState, addToWindow, aggregateValue, anomalyTimeMs } from './alert-window.js'
import type { AlertingMetrics } from './alerting-metrics.js'
import { type ActiveRules, type LiveRulesTable, attachLiveRules } from './live-alert-rules.js'
import type { RuleMatch } from './rule-matcher.js'

export interface ThrottleState {
  /** Event time of the group's last alert. */
  readonly last_alert_ms: number
  /** Its id: a replayed firing of the same alert is recognised, not counted as a repeat. */
  readonly last_alert_id: string
  /** Firings suppressed since the last alert (reported by the next one). */
  readonly suppressed: number
}

/** Per group: when (event time) and by which alert each route (by index) was last taken. */
export interface RouteRepeatState {
  readonly routes: Readonly<Record<string, { readonly at_ms: number; readonly alert_id: string }>>
}

export const THROTTLE_EXPIRY_INTERVAL_MS = 3_600_000
const THROTTLE_IDLE_MARGIN_MS = 86_400_000

export interface AlertRulesProcessorOptions {
  /** The rules, schedules, maintenance windows and routing tree in force (live-alert-rules.ts), read per record. */
  readonly active: () => ActiveRules
  readonly windows: WindowStoreDefinition<string, AlertWindowState>
  readonly throttles: KeyValueStoreDefinition<string, ThrottleState>
  /** The routes' last times (keyed by group key), for repeat_interval. */
  readonly repeats: KeyValueStoreDefinition<string, RouteRepeatState>
  /** With live rules: the global table's store and key that `rules.refresh` reads (the window prefetch runs before the joins). */
  readonly liveTable?: LiveRulesTable
  /** Anomalies this far behind the task's stream time still count in their window. */
  readonly graceMs: number
  readonly maxAnomalyIds: number
  readonly metrics: AlertingMetrics
  readonly log: Logger
}

export class AlertRulesProcessor implements Processor<string, RuleMatch, string, AlertEvent> {
  private context!: ProcessorContext<string, AlertEvent>
  private windows!: WindowStore<string, AlertWindowState>
  private throttles!: KeyValueStore<string, ThrottleState>
  private repeats!: KeyValueStore<string, RouteRepeatState>

  constructor(private readonly options: AlertRulesProcessorOptions) {}

  init(context: ProcessorContext<string, AlertEvent>): void {
    this.context = context
    attachLiveRules(context, this.options.liveTable)
    this.windows = context.getStateStore(this.options.windows)
    const repeats = context.getStateStore(this.options.repeats)
    this.repeats = repeats
    context.schedule(THROTTLE_EXPIRY_INTERVAL_MS, 'stream-time', async (now) => {
      const { maxRepeatMs } = this.options.active()
      const idle: string[] = []
      for await (const [key, state] of repeats.all())
        if (Object.values(state.routes).every((r) => r.at_ms < now - maxRepeatMs - THROTTLE_IDLE_MARGIN_MS)) idle.push(key)
      for (const key of idle) repeats.delete(key)
    })
    const throttles = context.getStateStore(this.options.throttles)
    this.throttles = throttles
    context.schedule(THROTTLE_EXPIRY_INTERVAL_MS, 'stream-time', async (now) => {
      const idle: string[] = []
      const { maxThrottleMs } = this.options.active()
      for await (const [key, state] of throttles.all()) if (state.last_alert_ms < now - maxThrottleMs - THROTTLE_IDLE_MARGIN_MS) idle.push(key)
      for (const key of idle) throttles.delete(key)
    })
  }

  process(record: StreamRecord<string, RuleMatch>): void {
    const { rule_id, group, anomaly } = record.value
    const rule = this.options.active().rules.get(rule_id) ?? detectorActionsRule(rule_id)
    if (rule === null || !rule.enabled) {
      // Matched before a version (or a restart) that no longer has the rule.
      this.options.metrics.dropped.inc({ reason: 'unknown_rule' })
      return
    }
    const t = record.timestamp
    if (rule.aggregation === null) return this.fire(rule, record.key, group, null, anomaly, t)

    const size = rule.aggregation.windowMs
    const start = Math.floor(t / size) * size
    if (start < this.context.streamTime() - size - this.options.graceMs) {
      this.options.metrics.dropped.inc({ reason: 'late' })
      this.options.log.warn(
        { rule: rule.id, group: record.key, anomaly_id: anomaly.anomaly_id, timestamp: t, stream_time: this.context.streamTime() },
        'anomaly later than the alerting grace dropped',
      )
      return
    }
    const before = this.storedWindow(record.key, start, size)
    // A replay of the repartition topic (at-least-once between the dedup and this stage).
    if (before?.anomaly_ids.includes(anomaly.anomaly_id)) {
      this.options.metrics.dropped.inc({ reason: 'duplicate' })
      return
    }
    const state = addToWindow(before, { start, end: start + size }, anomaly, this.options.maxAnomalyIds)
    const crossed = !state.fired && aggregateValue(state, rule.aggregation.function) >= rule.aggregation.threshold
    const stored = crossed ? { ...state, fired: true } : state
    this.windows.put(record.key, stored, start)
    if (crossed) this.fire(rule, record.key, group, stored, anomaly, t)
  }

  /** The group's window at `start` if it is one of `size`; a window of another size (the rule's size changed live) is not this rule's any more. */
  private storedWindow(key: string, start: number, size: number): AlertWindowState | undefined {
    let stored: AlertWindowState | undefined
    try {
      stored = this.windows.get(key, start)
    } catch (err) {
      // A version with a new window size arrived between this batch's prefetch and this record:
      // no window of that size was loaded, and the rule starts it fresh (as it would at the next batch).
      if (!(err instanceof StoreMissError)) throw err
      this.options.log.info({ group: key, window_start: start, window_ms: size }, 'alert window of a size new since the batch began: started fresh')
      return undefined
    }
    return stored !== undefined && stored.end - stored.start !== size ? undefined : stored
  }

  private fire(
    rule: AlertRule,
    groupKey: string,
    group: Readonly<Record<string, string>>,
    window: AlertWindowState | null,
    anomaly: AnomalyEvent,
    t: number,
  ): void {
    const { metrics, log } = this.options
    const id = alertId(rule.id, groupKey, window === null ? anomaly.anomaly_id : window.start)
    const active = this.options.active()
    const schedule = active.schedules.get(rule.id)
    if (schedule !== undefined && !schedule.isActive(t)) {
      metrics.suppressed.inc({ rule: rule.id, reason: 'schedule' })
      // debug: outside office hours every firing of a per-anomaly rule would log.
      log.debug({ rule: rule.id, group: groupKey, alert_id: id, timestamp: new Date(t).toISOString() }, "alert suppressed: outside the rule's schedule")
      return
    }
    const maintenance = active.maintenance.activeWindow(rule.id, t)
    if (maintenance !== null) {
      metrics.suppressed.inc({ rule: ruleLabel(rule.id), reason: 'maintenance' })
      log.info(
        { rule: rule.id, group: groupKey, alert_id: id, maintenance_window: maintenance.name, timestamp: new Date(t).toISOString() },
        'alert suppressed: maintenance window',
      )
      return
    }
    let suppressedCount = 0
    const maxFrequency = rule.throttling.maxFrequencyMs
    if (maxFrequency > 0) {
      const throttle = this.throttles.get(groupKey)
      if (throttle?.last_alert_id === id) {
        metrics.dropped.inc({ reason: 'duplicate' })
        return
      }
      if (throttle !== undefined && t - throttle.last_alert_ms < maxFrequency) {
        this.throttles.put(groupKey, { ...throttle, suppressed: throttle.suppressed + 1 })
        metrics.suppressed.inc({ rule: rule.id, reason: 'throttled' })
        log.debug({ rule: rule.id, group: groupKey, alert_id: id }, 'alert throttled')
        return
      }
      suppressedCount = throttle?.suppressed ?? 0
      this.throttles.put(groupKey, { last_alert_ms: t, last_alert_id: id, suppressed: 0 })
    }
    // Decisions go by the record time t; the alert is dated no earlier than any anomaly it reports.
    const firedAt = Math.max(t, anomalyTimeMs(anomaly), window?.latest_ms ?? -Infinity)
    const alert: { -readonly [F in keyof AlertEvent]: AlertEvent[F] } = {
      alert_id: id,
      rule_id: rule.id,
      rule_name: rule.name,
      timestamp: new Date(firedAt).toISOString(),
      severity: window?.severity ?? anomaly.severity,
      group,
      title: alertTitle(rule, group, window, anomaly),
      description: alertDescription(rule, group, window, anomaly, suppressedCount),
      application_id: anomaly.application_id,
      anomaly_ids: window?.anomaly_ids ?? [anomaly.anomaly_id],
      anomaly,
      aggregation:
        window === null || rule.aggregation === null
          ? null
          : {
              function: rule.aggregation.function,
              value: aggregateValue(window, rule.aggregation.function),
              threshold: rule.aggregation.threshold,
              window_start: new Date(window.start).toISOString(),
              window_end: new Date(window.end).toISOString(),
            },
      suppressed_count: suppressedCount,
      actions: rule.actions,
    }
    if (active.routing.length > 0) alert.actions = this.routed(alert, rule, groupKey, t, active)
    Object.assign(alert, withDetectorRequests(alert.actions, alert.description, anomaly))
    metrics.fired.inc({ rule: ruleLabel(rule.id) })
    this.context.forward({ key: id, value: alert, timestamp: firedAt, headers: {} })
  }

  /** The rule's actions plus one per route taken, leaving out routes inside their repeat_interval. */
  private routed(alert: AlertEvent, rule: AlertRule, groupKey: string, t: number, { routing }: ActiveRules): readonly AlertAction[] {
    const { metrics } = this.options
    const taken = matchingRoutes(routing, alert, rule)
    if (taken.length === 0) return rule.actions
    const before = this.repeats.get(groupKey)?.routes ?? {}
    const after = { ...before }
    const actions = [...rule.actions]
    for (const i of taken) {
      const route = routing[i]!
      const last = before[String(i)]
      // A replayed firing (same alert id) is routed as it was the first time.
      if (route.repeatIntervalMs > 0 && last !== undefined && last.alert_id !== alert.alert_id && t - last.at_ms < route.repeatIntervalMs) {
        metrics.routeRepeats.inc({ route: String(i) })
        continue
      }
      actions.push(routeAction(route, i))
      if (route.repeatIntervalMs > 0) after[String(i)] = { at_ms: t, alert_id: alert.alert_id }
    }
    if (Object.keys(after).some((k) => after[k] !== before[k])) this.repeats.put(groupKey, { routes: after })
    return actions
  }
}
