/**
 * The alert rules file (YAML), read once at start: seed 001's AlertDefinition as a list under
 * `rules:`, plus `maintenance_windows:`. Every mistake is reported at once, each naming the rule (or
 * maintenance window), the field and the fix (the style of detectors-config.ts), so a bad file fails
 * the start and never an alert at run time.
 *
 *   rules:
 *     - alert_id: critical-anomalies          # stable: part of every alert id and group key
 *       name: Critical anomalies
 *       enabled: true                         # default true
 *       conditions:
 *         trigger: anomaly                    # the only trigger supported
 *         filters: { severity: [critical], detector_ids: [...], application_ids: [...], score_threshold: 0.8 }
 *         aggregation: { window: 5m, function: count, threshold: 3 }   # absent: every anomaly fires
 *       actions:
 *         - type: notification                # notification | shield | webhook | incident
 *           config: { receivers: [pagerduty-oncall, slack-incidents] }
 *       throttling: { max_frequency: 15m, grouping: [application_id, detector_id] }
 *       schedule: { timezone: America/New_York, active_hours: { start: "22:00", end: "06:00" }, days_of_week: [mon, tue] }
 *       labels: { team: ml-platform }         # free-form; routes match on them
 *   routing:                                  # seed 001's routing tree, tried in order on every alert
 *     - match: { severity: critical }         # severity, rule, a rule label, or a grouping field; a value or a list
 *       receivers: [pagerduty-oncall, slack-incidents]
 *       repeat_interval: 5m                   # a group is routed here at most once per interval (0: every alert)
 *       continue: false                       # default: the first matching route ends the walk
 *   maintenance_windows:
 *     - name: weekly-maintenance
 *       schedule: "0 2 * * 0"                 # 5-field cron: when each window starts
 *       duration: 2h
 *       timezone: UTC                         # of the cron (default UTC)
 *       rules: [warning-anomalies]            # default: every rule
 *     - name: migration
 *       start: "2026-12-01T22:00:00Z"         # or an absolute window, with an explicit offset
 *       end: "2026-12-02T02:00:00Z"
 *
 * Defaults and meanings:
 * - no `aggregation`: each anomaly that passes the filters fires on its own (its alert's window is
 *   the anomaly itself: alert id from the anomaly id, `aggregation: null` in the AlertEvent).
 * - with `aggregation`: a tumbling window per group; it fires once, at the first anomaly that makes
 *   `function(scores) >= threshold` (`count` counts anomalies; avg/sum/max/min are of their scores).
 * - no `throttling`: `max_frequency` 0 (never throttled), grouping [detector_id, application_id].
 * - `routing`: a matching route adds a notification action to its receivers to the alert (beside the
 *   rule's own actions, which may then be left out); inside `repeat_interval` of the group's last
 *   alert routed there, the alert is recorded without that route (counted as suppressed `repeat`).
 * - `active_hours` end is inclusive to the minute ("00:00"–"23:59" is the whole day); start > end
 *   crosses midnight, and the hours after midnight belong to the day the range started (a Friday
 *   22:00–06:00 shift covers Saturday 03:00).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseDocument } from 'yaml'
import type { AnomalySeverity } from '../../../operators/detectors/severity.js'
import type { AlertAction } from '../../../schemas/alert/alert-event.js'
import { parseDuration } from '../detectors-config.js'
import { CronSchedule } from './cron-schedule.js'
import { type AlertLifecycleConfig, readLifecycleConfig } from './lifecycle-config.js'

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const
export const AGGREGATION_FUNCTIONS = ['count', 'avg', 'sum', 'max', 'min'] as const
export type AggregationFunction = (typeof AGGREGATION_FUNCTIONS)[number]
export const ACTION_TYPES = ['notification', 'shield', 'webhook', 'incident'] as const
/** AnomalyEvent fields an alert can be grouped by (nested ones dotted). */
export const GROUPING_FIELDS = ['detector_id', 'application_id', 'tenant_id', 'severity', 'detector_type', 'affected_entity.type', 'affected_entity.id'] as const
export type GroupingField = (typeof GROUPING_FIELDS)[number]
export const DAYS_OF_WEEK = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number]
const SHIELD_ACTIONS = ['block', 'rate_limit', 'throttle', 'quarantine', 'alert_only']
const TRIGGERS = ['anomaly', 'metric_threshold', 'event_pattern']

export const DEFAULT_GROUPING: readonly GroupingField[] = ['detector_id', 'application_id']

export interface AlertFilters {
  /** null: any. */
  readonly severity: readonly AnomalySeverity[] | null
  readonly detectorIds: readonly string[] | null
  readonly applicationIds: readonly string[] | null
  /** Anomalies must score at least this; null: any score. */
  readonly scoreThreshold: number | null
}

export interface AlertAggregationRule {
  readonly windowMs: number
  readonly function: AggregationFunction
  readonly threshold: number
}

export interface AlertThrottling {
  /** Minimum event time between two alerts of one group; 0 = never throttled. */
  readonly maxFrequencyMs: number
  readonly grouping: readonly GroupingField[]
}

export interface AlertSchedule {
  /** IANA time zone the hours and days are read in. */
  readonly timezone: string
  /** Minutes after local midnight, both inclusive; start > end crosses midnight. null: all day. */
  readonly activeHours: { readonly startMinute: number; readonly endMinute: number } | null
  /** null: every day. */
  readonly daysOfWeek: readonly DayOfWeek[] | null
}

export interface AlertRule {
  /** The seed's `alert_id`: the rule's stable id. */
  readonly id: string
  readonly name: string
  readonly description: string | null
  readonly enabled: boolean
  readonly filters: AlertFilters
  /** null: each anomaly fires on its own. */
  readonly aggregation: AlertAggregationRule | null
  readonly actions: readonly AlertAction[]
  readonly throttling: AlertThrottling
  /** null: always active. */
  readonly schedule: AlertSchedule | null
  /** Free-form labels routes match on (e.g. team). */
  readonly labels: Readonly<Record<string, string>>
  /** Name of an escalation policy (lifecycle-config.ts); null: none. */
  readonly escalation?: string | null
}

/** One route of the routing tree (seed 001 `alerting.routing`). */
export interface AlertRoute {
  /** Every key must match: `severity`, `rule` (the rule id), a rule label, or a grouping field; any of the values. */
  readonly match: Readonly<Record<string, readonly string[]>>
  readonly receivers: readonly string[]
  /** Event time between two alerts of one group routed here; 0 = every alert. */
  readonly repeatIntervalMs: number
  /** Whether the walk goes on to the next routes after this one matched. */
  readonly continue: boolean
}

interface MaintenanceWindowBase {
  readonly name: string
  /** Ids of the rules it silences; null: every rule. */
  readonly rules: readonly string[] | null
}

export interface CronMaintenanceWindow extends MaintenanceWindowBase {
  readonly kind: 'cron'
  /** 5-field cron of each window's start. */
  readonly cron: string
  readonly timezone: string
  readonly durationMs: number
}

export interface AbsoluteMaintenanceWindow extends MaintenanceWindowBase {
  readonly kind: 'absolute'
  /** [startMs, endMs) in epoch ms. */
  readonly startMs: number
  readonly endMs: number
}

export type MaintenanceWindow = CronMaintenanceWindow | AbsoluteMaintenanceWindow

export interface AlertRulesConfig {
  readonly source: string
  readonly rules: readonly AlertRule[]
  readonly maintenanceWindows: readonly MaintenanceWindow[]
  /** Empty: alerts go where their rules' actions say, only. */
  readonly routing: readonly AlertRoute[]
  /** Grouping, auto-resolve, escalation policies, templates (lifecycle-config.ts). */
  readonly lifecycle?: AlertLifecycleConfig
}

export interface AlertRulesConfigIssue {
  /** The rule's alert_id (or `rules[i]` when it has none); null when the issue is not a rule's. */
  readonly rule: string | null
  /** The maintenance window's name (or `maintenance_windows[i]`); null when not one's. */
  readonly maintenanceWindow: string | null
  readonly field: string | null
  readonly message: string
}

export class AlertRulesConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly AlertRulesConfigIssue[],
  ) {
    super(`invalid alert rules file ${source}:\n${issues.map((i) => `  - ${describeAlertRulesIssue(i)}`).join('\n')}`)
    this.name = 'AlertRulesConfigError'
  }
}

export function describeAlertRulesIssue(issue: AlertRulesConfigIssue): string {
  const where = [
    issue.rule === null ? null : `rule '${issue.rule}'`,
    issue.maintenanceWindow === null ? null : `maintenance window '${issue.maintenanceWindow}'`,
    issue.field === null ? null : `field '${issue.field}'`,
  ]
    .filter((s) => s !== null)
    .join(', ')
  return where.length > 0 ? `${where}: ${issue.message}` : issue.message
}

export interface AlertRulesParseOptions {
  /** Where the text came from, for messages. */
  readonly source?: string
  /** When given, `detector_ids` naming none of these are refused (pass the detectors file's ids). */
  readonly knownDetectorIds?: Iterable<string>
}

type Report = (field: string | null, message: string) => void

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Refuses fields not in `known`: a misspelt optional field would otherwise be silently ignored. */
function checkFields(value: Record<string, unknown>, known: readonly string[], prefix: string, report: Report): void {
  for (const field of Object.keys(value)) if (!known.includes(field)) report(`${prefix}${field}`, `is not a known field; the fields here are ${known.join(', ')}`)
}

function mapping(value: unknown, field: string, report: Report, hint: string): Record<string, unknown> | null {
  if (value === undefined) return null
  if (!isMapping(value)) {
    report(field, `must be a mapping: ${hint}`)
    return null
  }
  return value
}

function stringList(value: unknown, field: string, report: Report, hint: string): string[] | null {
  if (value === undefined) return null
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    report(field, `must be a non-empty list of ${hint}; leave the field out to match any`)
    return null
  }
  const duplicates = value.filter((v, i) => value.indexOf(v) !== i)
  if (duplicates.length > 0) report(field, `lists ${JSON.stringify(duplicates[0])} twice; list each once`)
  return value as string[]
}

function enumList<T extends string>(value: unknown, field: string, allowed: readonly T[], report: Report): T[] | null {
  const list = stringList(value, field, report, `${allowed.join(' | ')}`)
  if (list === null) return null
  const bad = list.filter((v) => !(allowed as readonly string[]).includes(v))
  if (bad.length > 0) {
    report(field, `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not valid; use ${allowed.join(' | ')}`)
    return null
  }
  return list as T[]
}

function duration(value: unknown, field: string, report: Report, allowZero: boolean): number {
  if (allowZero && (value === 0 || value === '0')) return 0
  const ms = parseDuration(value)
  if (ms === null) report(field, `${JSON.stringify(value)} is not a duration; write e.g. 30s, 5m, 1h${allowZero ? ' (or 0 for none)' : ''}`)
  return ms ?? Number.NaN
}

const HH_MM = /^([01]?\d|2[0-3]):([0-5]\d)$/

function minuteOfDay(value: unknown, field: string, report: Report): number {
  const match = typeof value === 'string' ? HH_MM.exec(value) : null
  if (!match) {
    report(field, `${JSON.stringify(value)} is not a time of day; write HH:MM (24h), e.g. "09:00" or "22:30"`)
    return 0
  }
  return Number(match[1]) * 60 + Number(match[2])
}

/** Whether `Intl` knows the zone (IANA names such as UTC, Europe/Paris, America/New_York). */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

function timezone(value: unknown, field: string, report: Report): string {
  if (value === undefined) return 'UTC'
  if (typeof value !== 'string' || !isValidTimeZone(value)) {
    report(field, `${JSON.stringify(value)} is not a known time zone; use an IANA name such as UTC, Europe/Berlin or America/New_York`)
    return 'UTC'
  }
  return value
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

function instant(value: unknown, field: string, report: Report): number {
  const ms = typeof value === 'string' && ISO_WITH_OFFSET.test(value) ? Date.parse(value) : value instanceof Date ? value.getTime() : Number.NaN
  if (!Number.isFinite(ms)) report(field, `${JSON.stringify(value)} is not an ISO-8601 time with an offset; write e.g. "2026-12-01T22:00:00Z" or "2026-12-01T17:00:00-05:00"`)
  return ms
}

const RULE_FIELDS = ['alert_id', 'name', 'description', 'enabled', 'conditions', 'actions', 'throttling', 'schedule', 'labels', 'escalation']

function readFilters(raw: unknown, report: Report, knownDetectors: ReadonlySet<string> | null): AlertFilters {
  const filters = mapping(raw, 'conditions.filters', report, 'e.g. { severity: [critical], score_threshold: 0.8 }') ?? {}
  checkFields(filters, ['severity', 'detector_ids', 'application_ids', 'score_threshold'], 'conditions.filters.', report)
  const detectorIds = stringList(filters.detector_ids, 'conditions.filters.detector_ids', report, 'detector ids')
  if (detectorIds && knownDetectors) {
    const unknown = detectorIds.filter((d) => !knownDetectors.has(d))
    if (unknown.length > 0) report('conditions.filters.detector_ids', `${unknown.map((u) => `'${u}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a detector of the detectors file; use ${[...knownDetectors].join(', ')}`)
  }
  let scoreThreshold: number | null = null
  if (filters.score_threshold !== undefined) {
    const s = filters.score_threshold
    if (typeof s === 'number' && s >= 0 && s <= 1) scoreThreshold = s
    else report('conditions.filters.score_threshold', `${JSON.stringify(s)} is not valid; give a score in [0, 1] (anomaly scores are 0.5 at a detector's threshold)`)
  }
  return {
    severity: enumList(filters.severity, 'conditions.filters.severity', ALERT_SEVERITIES, report),
    detectorIds,
    applicationIds: stringList(filters.application_ids, 'conditions.filters.application_ids', report, 'application ids'),
    scoreThreshold,
  }
}

function readAggregation(raw: unknown, report: Report): AlertAggregationRule | null {
  const agg = mapping(raw, 'conditions.aggregation', report, 'e.g. { window: 5m, function: count, threshold: 3 }, or leave it out to fire on every anomaly')
  if (agg === null) return null
  checkFields(agg, ['window', 'function', 'threshold'], 'conditions.aggregation.', report)
  const windowMs = agg.window === undefined ? (report('conditions.aggregation.window', 'is required; give a duration such as 1m or 15m'), Number.NaN) : duration(agg.window, 'conditions.aggregation.window', report, false)
  let fn: AggregationFunction = 'count'
  if (agg.function !== undefined) {
    if ((AGGREGATION_FUNCTIONS as readonly unknown[]).includes(agg.function)) fn = agg.function as AggregationFunction
    else report('conditions.aggregation.function', `${JSON.stringify(agg.function)} is not valid; use ${AGGREGATION_FUNCTIONS.join(' | ')}`)
  }
  const t = agg.threshold
  let threshold = Number.NaN
  if (t === undefined) report('conditions.aggregation.threshold', fn === 'count' ? 'is required; give the number of anomalies that fires the rule, e.g. 3' : 'is required; give the score in (0, 1] the aggregate must reach, e.g. 0.8')
  else if (fn === 'count') {
    if (typeof t === 'number' && Number.isInteger(t) && t >= 1) threshold = t
    else report('conditions.aggregation.threshold', `${JSON.stringify(t)} is not valid for count; give an integer >= 1 (anomalies in the window)`)
  } else if (fn === 'sum') {
    if (typeof t === 'number' && Number.isFinite(t) && t > 0) threshold = t
    else report('conditions.aggregation.threshold', `${JSON.stringify(t)} is not valid for sum; give a number > 0 (a sum of scores, each in [0, 1])`)
  } else if (typeof t === 'number' && t > 0 && t <= 1) threshold = t
  else report('conditions.aggregation.threshold', `${JSON.stringify(t)} is not valid for ${fn}; give a score in (0, 1] (anomaly scores are in [0, 1])`)
  return { windowMs, function: fn, threshold }
}

function readActions(raw: unknown, report: Report, routed: boolean): AlertAction[] {
  if (routed && raw === undefined) return []
  if (!Array.isArray(raw) || raw.length === 0) {
    report('actions', 'is required: a non-empty list such as [{ type: notification, config: { receivers: [slack-incidents] } }]')
    return []
  }
  const actions: AlertAction[] = []
  raw.forEach((entry: unknown, i) => {
    const field = `actions[${i}]`
    if (!isMapping(entry)) return report(field, `must be a mapping { type: ${ACTION_TYPES.join(' | ')}, config: {...} }`)
    checkFields(entry, ['type', 'config'], `${field}.`, report)
    if (!(ACTION_TYPES as readonly unknown[]).includes(entry.type)) return report(`${field}.type`, `${JSON.stringify(entry.type)} is not valid; use ${ACTION_TYPES.join(' | ')}`)
    const type = entry.type as AlertAction['type']
    const config = entry.config === undefined ? {} : entry.config
    if (!isMapping(config)) return report(`${field}.config`, 'must be a mapping of the action\'s settings, e.g. { receivers: [slack-incidents] }')
    if (type === 'notification') {
      const receivers = config.receivers
      if (!Array.isArray(receivers) || receivers.length === 0 || receivers.some((r) => typeof r !== 'string' || r.length === 0))
        return report(`${field}.config.receivers`, 'is required for a notification: a non-empty list of receiver names from the receivers file, e.g. [slack-incidents]')
    }
    if (type === 'shield' && config.action !== undefined && !(typeof config.action === 'string' && SHIELD_ACTIONS.includes(config.action.toLowerCase())))
      return report(`${field}.config.action`, `${JSON.stringify(config.action)} is not valid; use ${SHIELD_ACTIONS.join(' | ')}`)
    if (config.duration !== undefined && parseDuration(config.duration) === null) return report(`${field}.config.duration`, `${JSON.stringify(config.duration)} is not a duration; write e.g. 15m or 1h`)
    actions.push({ type, config })
  })
  return actions
}

function readThrottling(raw: unknown, report: Report): AlertThrottling {
  const throttling = mapping(raw, 'throttling', report, 'e.g. { max_frequency: 15m, grouping: [application_id, detector_id] }')
  if (throttling === null) return { maxFrequencyMs: 0, grouping: DEFAULT_GROUPING }
  checkFields(throttling, ['max_frequency', 'grouping'], 'throttling.', report)
  const maxFrequencyMs = throttling.max_frequency === undefined ? 0 : duration(throttling.max_frequency, 'throttling.max_frequency', report, true)
  let grouping: readonly GroupingField[] = DEFAULT_GROUPING
  if (throttling.grouping !== undefined) {
    const g = throttling.grouping
    if (Array.isArray(g) && g.length === 0) grouping = []
    else grouping = enumList(g, 'throttling.grouping', GROUPING_FIELDS, report) ?? DEFAULT_GROUPING
  }
  return { maxFrequencyMs, grouping }
}

function readSchedule(raw: unknown, report: Report): AlertSchedule | null {
  const schedule = mapping(raw, 'schedule', report, 'e.g. { timezone: America/New_York, active_hours: { start: "09:00", end: "18:00" }, days_of_week: [mon, tue, wed, thu, fri] }')
  if (schedule === null) return null
  checkFields(schedule, ['timezone', 'active_hours', 'days_of_week'], 'schedule.', report)
  let activeHours: AlertSchedule['activeHours'] = null
  const hours = mapping(schedule.active_hours, 'schedule.active_hours', report, 'e.g. { start: "09:00", end: "18:00" }')
  if (hours !== null) {
    checkFields(hours, ['start', 'end'], 'schedule.active_hours.', report)
    if (hours.start === undefined) report('schedule.active_hours.start', 'is required; write HH:MM, e.g. "09:00"')
    if (hours.end === undefined) report('schedule.active_hours.end', 'is required; write HH:MM, e.g. "18:00" (inclusive; earlier than start crosses midnight)')
    if (hours.start !== undefined && hours.end !== undefined) activeHours = { startMinute: minuteOfDay(hours.start, 'schedule.active_hours.start', report), endMinute: minuteOfDay(hours.end, 'schedule.active_hours.end', report) }
  }
  return {
    timezone: timezone(schedule.timezone, 'schedule.timezone', report),
    activeHours,
    daysOfWeek: enumList(schedule.days_of_week, 'schedule.days_of_week', DAYS_OF_WEEK, report),
  }
}

function readLabels(raw: unknown, report: Report): Record<string, string> {
  const labels = mapping(raw, 'labels', report, 'e.g. { team: ml-platform }') ?? {}
  for (const [key, value] of Object.entries(labels)) if (typeof value !== 'string' || value.length === 0) report(`labels.${key}`, 'must be a non-empty string')
  return labels as Record<string, string>
}

function readRoute(raw: unknown, index: number, report: (field: string | null, message: string) => void): AlertRoute | null {
  const field = `routing[${index}]`
  if (!isMapping(raw)) {
    report(field, 'must be a mapping { match: { severity: critical }, receivers: [name], repeat_interval: 5m }')
    return null
  }
  checkFields(raw, ['match', 'receivers', 'repeat_interval', 'continue'], `${field}.`, report)
  const match: Record<string, string[]> = {}
  const rawMatch = mapping(raw.match, `${field}.match`, report, 'e.g. { severity: critical, team: ml-platform } (leave it out to match every alert)') ?? {}
  for (const [key, value] of Object.entries(rawMatch)) {
    const values = typeof value === 'string' ? [value] : Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string') ? (value as string[]) : null
    if (values === null) report(`${field}.match.${key}`, 'must be a string or a non-empty list of strings')
    else if (key === 'severity' && values.some((v) => !(ALERT_SEVERITIES as readonly string[]).includes(v))) report(`${field}.match.severity`, `use ${ALERT_SEVERITIES.join(' | ')}`)
    else match[key] = values
  }
  const receivers = stringList(raw.receivers, `${field}.receivers`, report, 'receiver names from the receivers file') ?? []
  if (raw.receivers === undefined) report(`${field}.receivers`, 'is required: the receivers alerts matching this route go to, e.g. [slack-incidents]')
  const repeatIntervalMs = raw.repeat_interval === undefined ? 0 : duration(raw.repeat_interval, `${field}.repeat_interval`, report, true)
  if (raw.continue !== undefined && typeof raw.continue !== 'boolean') report(`${field}.continue`, 'must be true or false')
  return { match, receivers, repeatIntervalMs, continue: raw.continue === true }
}

function readRule(raw: unknown, index: number, issues: AlertRulesConfigIssue[], knownDetectors: ReadonlySet<string> | null, routed: boolean, lifecycle: AlertLifecycleConfig): AlertRule | null {
  const label = `rules[${index}]`
  if (!isMapping(raw)) {
    issues.push({ rule: label, maintenanceWindow: null, field: null, message: 'must be a mapping with alert_id, name, conditions, actions, ...' })
    return null
  }
  const id = typeof raw.alert_id === 'string' && raw.alert_id.trim().length > 0 ? raw.alert_id : null
  const before = issues.length
  const report: Report = (field, message) => issues.push({ rule: id ?? label, maintenanceWindow: null, field, message })
  if (id === null) report('alert_id', 'is required: a non-empty string, stable across versions (it is part of every alert id)')
  checkFields(raw, RULE_FIELDS, '', report)
  const name = typeof raw.name === 'string' && raw.name.length > 0 ? raw.name : null
  if (name === null) report('name', 'is required: a non-empty string, shown in alert titles')
  if (raw.description !== undefined && typeof raw.description !== 'string') report('description', 'must be a string')
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') report('enabled', 'must be true or false')

  const conditions = mapping(raw.conditions, 'conditions', report, 'e.g. { trigger: anomaly, filters: { severity: [critical] } }')
  if (conditions === null && raw.conditions === undefined) report('conditions', 'is required: { trigger: anomaly, filters: {...}, aggregation: {...} }')
  let filters: AlertFilters = { severity: null, detectorIds: null, applicationIds: null, scoreThreshold: null }
  let aggregation: AlertAggregationRule | null = null
  if (conditions !== null) {
    checkFields(conditions, ['trigger', 'filters', 'aggregation'], 'conditions.', report)
    const trigger = conditions.trigger
    if (trigger === undefined) report('conditions.trigger', 'is required; use anomaly')
    else if (trigger !== 'anomaly')
      report(
        'conditions.trigger',
        TRIGGERS.includes(trigger as string)
          ? `'${String(trigger)}' is not supported: only trigger 'anomaly' is; to alert on a metric, add a threshold detector to the detectors file and alert on its anomalies`
          : `${JSON.stringify(trigger)} is not valid: only trigger 'anomaly' is supported`,
      )
    filters = readFilters(conditions.filters, report, knownDetectors)
    aggregation = readAggregation(conditions.aggregation, report)
  }
  const rule: AlertRule = {
    id: id ?? label,
    name: name ?? id ?? label,
    description: typeof raw.description === 'string' ? raw.description : null,
    enabled: raw.enabled !== false,
    filters,
    aggregation,
    actions: readActions(raw.actions, report, routed),
    throttling: readThrottling(raw.throttling, report),
    schedule: readSchedule(raw.schedule, report),
    labels: readLabels(raw.labels, report),
    escalation: readEscalation(raw.escalation, lifecycle, report),
  }
  rule.actions.forEach((action, i) => {
    const template = action.config.template
    if (template === undefined) return
    if (typeof template !== 'string' || !lifecycle.templates.has(template))
      report(`actions[${i}].config.template`, `${JSON.stringify(template)} is not a template of this file; ${lifecycle.templates.size === 0 ? 'define it under templates:' : `use ${[...lifecycle.templates.keys()].join(', ')}`}`)
  })
  return issues.length === before ? rule : null
}

function readEscalation(raw: unknown, lifecycle: AlertLifecycleConfig, report: Report): string | null {
  if (raw === undefined || raw === null) return null
  if (typeof raw === 'string' && lifecycle.escalationPolicies.has(raw)) return raw
  report('escalation', `${JSON.stringify(raw)} is not an escalation policy of this file; ${lifecycle.escalationPolicies.size === 0 ? 'define it under escalation_policies:' : `use ${[...lifecycle.escalationPolicies.keys()].join(', ')}`}`)
  return null
}

function readMaintenanceWindow(raw: unknown, index: number, issues: AlertRulesConfigIssue[], ruleIds: ReadonlySet<string>): MaintenanceWindow | null {
  const label = `maintenance_windows[${index}]`
  if (!isMapping(raw)) {
    issues.push({ rule: null, maintenanceWindow: label, field: null, message: 'must be a mapping { name, schedule, duration } or { name, start, end }' })
    return null
  }
  const name = typeof raw.name === 'string' && raw.name.length > 0 ? raw.name : null
  const before = issues.length
  const report: Report = (field, message) => issues.push({ rule: null, maintenanceWindow: name ?? label, field, message })
  if (name === null) report('name', 'is required: a non-empty string, shown in logs when it silences an alert')
  checkFields(raw, ['name', 'schedule', 'duration', 'timezone', 'start', 'end', 'rules'], '', report)
  let rules: string[] | null = null
  if (raw.rules !== undefined) {
    rules = stringList(raw.rules, 'rules', report, 'rule alert_ids (leave the field out to silence every rule)')
    const unknown = (rules ?? []).filter((r) => !ruleIds.has(r))
    if (unknown.length > 0) report('rules', `${unknown.map((u) => `'${u}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a rule of this file; use alert_ids of rules: ${[...ruleIds].join(', ')}`)
  }
  const cronForm = raw.schedule !== undefined || raw.duration !== undefined
  const absoluteForm = raw.start !== undefined || raw.end !== undefined
  let window: MaintenanceWindow | null = null
  if (cronForm && absoluteForm) report(null, 'give either schedule + duration (recurring) or start + end (once), not both')
  else if (cronForm) {
    if (raw.schedule === undefined) report('schedule', 'is required with duration: a 5-field cron of when each window starts, e.g. "0 2 * * 0" (Sundays 02:00)')
    if (raw.duration === undefined) report('duration', 'is required with schedule: how long each window lasts, e.g. 2h')
    const tz = timezone(raw.timezone, 'timezone', report)
    const problem = raw.schedule === undefined ? null : CronSchedule.problem(raw.schedule, tz)
    if (problem !== null) report('schedule', `${JSON.stringify(raw.schedule)} ${problem}; write 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * 0"`)
    const durationMs = raw.duration === undefined ? Number.NaN : duration(raw.duration, 'duration', report, false)
    window = { kind: 'cron', name: name ?? label, rules, cron: String(raw.schedule), timezone: tz, durationMs }
  } else if (absoluteForm) {
    if (raw.timezone !== undefined) report('timezone', 'applies to schedule only; start and end carry their own offset');
    const startMs = raw.start === undefined ? (report('start', 'is required with end, e.g. "2026-12-01T22:00:00Z"'), Number.NaN) : instant(raw.start, 'start', report)
    const endMs = raw.end === undefined ? (report('end', 'is required with start, e.g. "2026-12-02T02:00:00Z"'), Number.NaN) : instant(raw.end, 'end', report)
    if (Number.isFinite(startMs) && Number.isFinite(endMs) && endMs <= startMs) report('end', 'must be after start')
    window = { kind: 'absolute', name: name ?? label, rules, startMs, endMs }
  } else report(null, 'needs schedule + duration (a recurring window, e.g. schedule: "0 2 * * 0", duration: 2h) or start + end (ISO-8601 times)')
  return issues.length === before ? window : null
}

/** Parses and checks a rules file's text; throws AlertRulesConfigError listing every issue. */
export function parseAlertRulesConfig(text: string, options: AlertRulesParseOptions = {}): AlertRulesConfig {
  const source = options.source ?? '<inline>'
  const doc = parseDocument(text)
  if (doc.errors.length > 0) throw new AlertRulesConfigError(source, doc.errors.map((e) => ({ rule: null, maintenanceWindow: null, field: null, message: `YAML syntax: ${e.message}` })))
  const root: unknown = doc.toJS()
  const fileIssue = (field: string | null, message: string): AlertRulesConfigIssue => ({ rule: null, maintenanceWindow: null, field, message })
  if (!isMapping(root) || !Array.isArray(root.rules)) throw new AlertRulesConfigError(source, [fileIssue('rules', 'is required: a list of alert rules (rules: [- alert_id: ..., name: ..., conditions: ..., actions: ...])')])
  const issues: AlertRulesConfigIssue[] = []
  checkFields(root, ['version', 'rules', 'maintenance_windows', 'routing', 'grouping', 'resolve', 'escalation_policies', 'templates'], '', (field, message) => issues.push(fileIssue(field, message)))
  const lifecycle = readLifecycleConfig(root, (field, message) => issues.push(fileIssue(field, message)))
  const routing: AlertRoute[] = []
  if (root.routing !== undefined && !Array.isArray(root.routing)) issues.push(fileIssue('routing', 'must be a list of { match, receivers, repeat_interval }'))
  else if (Array.isArray(root.routing))
    root.routing.forEach((raw: unknown, i) => {
      const before = issues.length
      const route = readRoute(raw, i, (field, message) => issues.push(fileIssue(field, message)))
      if (route !== null && issues.length === before) routing.push(route)
    })
  const routed = Array.isArray(root.routing) && root.routing.length > 0
  const knownDetectors = options.knownDetectorIds === undefined ? null : new Set(options.knownDetectorIds)
  const rules: AlertRule[] = []
  const seen = new Set<string>()
  root.rules.forEach((raw: unknown, i) => {
    const rule = readRule(raw, i, issues, knownDetectors, routed, lifecycle)
    const id = isMapping(raw) ? raw.alert_id : undefined
    if (typeof id === 'string') {
      if (seen.has(id)) issues.push({ rule: id, maintenanceWindow: null, field: 'alert_id', message: 'is used by more than one rule; alert_ids must be unique (they are part of alert ids and group keys)' })
      seen.add(id)
    }
    if (rule) rules.push(rule)
  })
  const maintenanceWindows: MaintenanceWindow[] = []
  const rawWindows = root.maintenance_windows
  if (rawWindows !== undefined && !Array.isArray(rawWindows)) issues.push(fileIssue('maintenance_windows', 'must be a list of { name, schedule, duration } or { name, start, end }'))
  else if (Array.isArray(rawWindows)) {
    const names = new Set<string>()
    rawWindows.forEach((raw: unknown, i) => {
      const window = readMaintenanceWindow(raw, i, issues, seen)
      if (window === null) return
      if (names.has(window.name)) issues.push({ rule: null, maintenanceWindow: window.name, field: 'name', message: 'is used by more than one maintenance window; names must be unique' })
      names.add(window.name)
      maintenanceWindows.push(window)
    })
  }
  if (issues.length > 0) throw new AlertRulesConfigError(source, issues)
  return { source, rules, maintenanceWindows, routing, lifecycle }
}

/** Reads a rules file at start (synchronously: nothing runs before it is known good). */
export function loadAlertRulesConfig(path: string | URL, options: Omit<AlertRulesParseOptions, 'source'> = {}): AlertRulesConfig {
  const source = path instanceof URL ? fileURLToPath(path) : path
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new AlertRulesConfigError(source, [{ rule: null, maintenanceWindow: null, field: null, message: `cannot read the file: ${(err as Error).message}` }])
  }
  return parseAlertRulesConfig(text, { ...options, source })
}

/** The default rules file shipped with the app (matches detectors.default.yaml). */
export const DEFAULT_ALERT_RULES_PATH = new URL('../alert-rules.default.yaml', import.meta.url)
