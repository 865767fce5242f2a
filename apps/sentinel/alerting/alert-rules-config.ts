/**
 * The alert rules file (YAML), read once at start: seed 001's AlertDefinition as a list under
 * `rules:`, plus `maintenance_windows:`. Mistakes are reported together, each naming the rule (or
 * maintenance window), the field and the fix, so a bad file fails the start and never an alert at
 * run time. Two rounds: the file's shape is checked first against its JSON Schema
 * (config-schemas/alert-rules.schema.json, published for editors; schemas/config/config-reader.ts),
 * then what a schema cannot say (durations, time zones, cron, thresholds that depend on the
 * aggregation function, references to detectors, templates, policies and rules).
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
import type { AnomalySeverity } from '../../../operators/detectors/severity.js'
import type { AlertAction } from '../../../schemas/alert/alert-event.js'
import { type ConfigIssue, compileConfigSchema, fieldPath, parseConfigText, validateConfig } from '../../../schemas/config/config-reader.js'
import { parseDuration } from '../detectors-config.js'
import { CronSchedule } from './cron-schedule.js'
import { ANOMALY_GROUPING_LABELS } from './alert-notification.js'
import { closestName } from '../../../schemas/config/closest-name.js'
import { type AlertLifecycleConfig, type GroupableLabels, type LifecycleSections, groupByProblems, readLifecycleConfig } from './lifecycle-config.js'

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const
export const AGGREGATION_FUNCTIONS = ['count', 'avg', 'sum', 'max', 'min'] as const
export type AggregationFunction = (typeof AGGREGATION_FUNCTIONS)[number]
export const ACTION_TYPES = ['notification', 'shield', 'webhook', 'incident'] as const
/** AnomalyEvent fields an alert can be grouped by (nested ones dotted). */
export const GROUPING_FIELDS = [
  'detector_id',
  'application_id',
  'tenant_id',
  'severity',
  'detector_type',
  'affected_entity.type',
  'affected_entity.id',
] as const
/** An AnomalyEvent field of GROUPING_FIELDS, or a detector's dimension (the anomaly's `dimensions`, e.g. `region`). */
export type GroupingField = (typeof GROUPING_FIELDS)[number] | (string & {})
export const DAYS_OF_WEEK = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number]
const SHIELD_ACTIONS = ['block', 'rate_limit', 'throttle', 'quarantine', 'alert_only']

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
  /** The file as written (what a rules version holds: alert-rule-versions.ts). */
  readonly document?: Readonly<Record<string, unknown>>
  /** The dimension names it was checked against (`knownDimensions`): a later version of it is checked against the same. */
  readonly knownDimensions?: readonly string[]
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
  /**
   * The anomalies' dimension names: the detectors' groupBy, as written (pass every detector's).
   * `grouping.groupBy` may name these besides the labels alerts have; a name that is neither is
   * refused. Absent: none.
   */
  readonly knownDimensions?: Iterable<string>
}

type Report = (field: string | null, message: string) => void

type Duration = string | number

/** A rules file as its schema (config-schemas/alert-rules.schema.json) lets it through. */
interface RulesFile extends LifecycleSections {
  readonly rules: readonly RuleEntry[]
  readonly routing?: readonly RouteEntry[]
  readonly maintenance_windows?: readonly MaintenanceWindowEntry[]
}

interface RuleEntry {
  readonly alert_id: string
  readonly name: string
  readonly description?: string
  readonly enabled?: boolean
  readonly conditions: {
    readonly filters?: {
      readonly severity?: AnomalySeverity[]
      readonly detector_ids?: string[]
      readonly application_ids?: string[]
      readonly score_threshold?: number
    }
    readonly aggregation?: { readonly window: Duration; readonly function?: AggregationFunction; readonly threshold: number }
  }
  readonly actions?: readonly { readonly type: AlertAction['type']; readonly config?: Record<string, unknown> }[]
  readonly throttling?: { readonly max_frequency?: Duration; readonly grouping?: GroupingField[] }
  readonly schedule?: {
    readonly timezone?: string
    readonly active_hours?: { readonly start: string; readonly end: string }
    readonly days_of_week?: DayOfWeek[]
  }
  readonly labels?: Record<string, string>
  readonly escalation?: string
}

interface RouteEntry {
  readonly match?: Record<string, string | string[]>
  readonly receivers: string[]
  readonly repeat_interval?: Duration
  readonly continue?: boolean
}

interface MaintenanceWindowEntry {
  readonly name: string
  readonly schedule?: string
  readonly duration?: Duration
  readonly timezone?: string
  readonly start?: string
  readonly end?: string
  readonly rules?: string[]
}

// The structure (types, required fields, enums, ranges, unknown keys) is the schema's; this file
// adds what a schema cannot say. The same file is published for editors (README, "Config schemas").
const validator = compileConfigSchema(JSON.parse(readFileSync(new URL('../config-schemas/alert-rules.schema.json', import.meta.url), 'utf8')) as object)

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function duration(value: Duration, field: string, report: Report, allowZero: boolean): number {
  if (allowZero && (value === 0 || value === '0')) return 0
  const ms = parseDuration(value)
  if (ms === null) report(field, `${JSON.stringify(value)} is not a duration; write e.g. 30s, 5m, 1h${allowZero ? ' (or 0 for none)' : ''}`)
  return ms ?? Number.NaN
}

/** Minutes after midnight of an `HH:MM` the schema has checked. */
function minuteOfDay(value: string): number {
  const [hours, minutes] = value.split(':')
  return Number(hours) * 60 + Number(minutes)
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

function timezone(value: string | undefined, field: string, report: Report): string {
  if (value === undefined) return 'UTC'
  if (!isValidTimeZone(value)) {
    report(field, `${JSON.stringify(value)} is not a known time zone; use an IANA name such as UTC, Europe/Berlin or America/New_York`)
    return 'UTC'
  }
  return value
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

function instant(value: string, field: string, report: Report): number {
  const ms = ISO_WITH_OFFSET.test(value) ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(ms))
    report(field, `${JSON.stringify(value)} is not an ISO-8601 time with an offset; write e.g. "2026-12-01T22:00:00Z" or "2026-12-01T17:00:00-05:00"`)
  return ms
}

function readFilters(entry: RuleEntry['conditions']['filters'], report: Report, knownDetectors: ReadonlySet<string> | null): AlertFilters {
  const filters = entry ?? {}
  const detectorIds = filters.detector_ids ?? null
  if (detectorIds && knownDetectors) {
    const unknown = detectorIds.filter((d) => !knownDetectors.has(d))
    if (unknown.length > 0)
      report(
        'conditions.filters.detector_ids',
        `${unknown.map((u) => `'${u}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a detector of the detectors file; use ${[...knownDetectors].join(', ')}`,
      )
  }
  return { severity: filters.severity ?? null, detectorIds, applicationIds: filters.application_ids ?? null, scoreThreshold: filters.score_threshold ?? null }
}

function readAggregation(agg: RuleEntry['conditions']['aggregation'], report: Report): AlertAggregationRule | null {
  if (agg === undefined) return null
  const windowMs = duration(agg.window, 'conditions.aggregation.window', report, false)
  const fn = agg.function ?? 'count'
  const t = agg.threshold
  const field = 'conditions.aggregation.threshold'
  // What the threshold means depends on the function: a count of anomalies, or scores in [0, 1].
  if (fn === 'count' && !(Number.isInteger(t) && t >= 1))
    report(field, `${JSON.stringify(t)} is not valid for count; give an integer >= 1 (anomalies in the window)`)
  else if (fn === 'sum' && !(Number.isFinite(t) && t > 0))
    report(field, `${JSON.stringify(t)} is not valid for sum; give a number > 0 (a sum of scores, each in [0, 1])`)
  else if (fn !== 'count' && fn !== 'sum' && !(t > 0 && t <= 1))
    report(field, `${JSON.stringify(t)} is not valid for ${fn}; give a score in (0, 1] (anomaly scores are in [0, 1])`)
  return { windowMs, function: fn, threshold: t }
}

function readActions(entries: RuleEntry['actions'], report: Report, routed: boolean): AlertAction[] {
  if (entries === undefined) {
    // Without routing the rule's alerts would go nowhere.
    if (!routed)
      report('actions', 'is required: a non-empty list such as [{ type: notification, config: { receivers: [slack-incidents] } }] (or routes under routing:)')
    return []
  }
  const actions: AlertAction[] = []
  entries.forEach((entry, i) => {
    const field = `actions[${i}]`
    const config = entry.config ?? {}
    if (entry.type === 'notification') {
      const receivers = config.receivers
      if (!Array.isArray(receivers) || receivers.length === 0 || receivers.some((r) => typeof r !== 'string' || r.length === 0))
        return report(
          `${field}.config.receivers`,
          'is required for a notification: a non-empty list of receiver names from the receivers file, e.g. [slack-incidents]',
        )
    }
    if (entry.type === 'shield' && config.action !== undefined && !(typeof config.action === 'string' && SHIELD_ACTIONS.includes(config.action.toLowerCase())))
      return report(`${field}.config.action`, `${JSON.stringify(config.action)} is not valid; use ${SHIELD_ACTIONS.join(' | ')}`)
    if (config.duration !== undefined && parseDuration(config.duration) === null)
      return report(`${field}.config.duration`, `${JSON.stringify(config.duration)} is not a duration; write e.g. 15m or 1h`)
    actions.push({ type: entry.type, config })
  })
  return actions
}

function readThrottling(entry: RuleEntry['throttling'], report: Report, dimensions: ReadonlySet<string>): AlertThrottling {
  if (entry === undefined) return { maxFrequencyMs: 0, grouping: DEFAULT_GROUPING }
  const grouping = entry.grouping ?? DEFAULT_GROUPING
  grouping.forEach((name, i) => {
    if ((GROUPING_FIELDS as readonly string[]).includes(name) || dimensions.has(name)) return
    // A name no anomaly carries would put every anomaly in one "missing" group: a typo, or a dimension no detector groups by.
    const hint = closestName(name, [...GROUPING_FIELDS, ...dimensions])
    report(
      `throttling.grouping[${i}]`,
      `'${name}' is not an anomaly field or a detector's dimension${hint === null ? '' : ` (did you mean ${hint}?)`}; use ${GROUPING_FIELDS.join(' | ')}` +
        ` or a dimension (the detectors' groupBy): ${dimensions.size === 0 ? 'none' : [...dimensions].join(', ')}`,
    )
  })
  return {
    maxFrequencyMs: entry.max_frequency === undefined ? 0 : duration(entry.max_frequency, 'throttling.max_frequency', report, true),
    grouping,
  }
}

function readSchedule(entry: RuleEntry['schedule'], report: Report): AlertSchedule | null {
  if (entry === undefined) return null
  const hours = entry.active_hours
  return {
    timezone: timezone(entry.timezone, 'schedule.timezone', report),
    activeHours: hours === undefined ? null : { startMinute: minuteOfDay(hours.start), endMinute: minuteOfDay(hours.end) },
    daysOfWeek: entry.days_of_week ?? null,
  }
}

function readRoute(entry: RouteEntry, index: number, report: Report): AlertRoute {
  const field = `routing[${index}]`
  const match: Record<string, string[]> = {}
  for (const [key, value] of Object.entries(entry.match ?? {})) {
    match[key] = typeof value === 'string' ? [value] : value
  }
  const repeatIntervalMs = entry.repeat_interval === undefined ? 0 : duration(entry.repeat_interval, `${field}.repeat_interval`, report, true)
  return { match, receivers: entry.receivers, repeatIntervalMs, continue: entry.continue === true }
}

function readRule(
  entry: RuleEntry,
  issues: AlertRulesConfigIssue[],
  knownDetectors: ReadonlySet<string> | null,
  routed: boolean,
  lifecycle: AlertLifecycleConfig,
  dimensions: ReadonlySet<string>,
): AlertRule | null {
  const before = issues.length
  const report: Report = (field, message) => issues.push({ rule: entry.alert_id, maintenanceWindow: null, field, message })
  const rule: AlertRule = {
    id: entry.alert_id,
    name: entry.name,
    description: entry.description ?? null,
    enabled: entry.enabled !== false,
    filters: readFilters(entry.conditions.filters, report, knownDetectors),
    aggregation: readAggregation(entry.conditions.aggregation, report),
    actions: readActions(entry.actions, report, routed),
    throttling: readThrottling(entry.throttling, report, dimensions),
    schedule: readSchedule(entry.schedule, report),
    labels: entry.labels ?? {},
    escalation: readEscalation(entry.escalation, lifecycle, report),
  }
  rule.actions.forEach((action, i) => {
    const template = action.config.template
    if (template === undefined) return
    if (typeof template !== 'string' || !lifecycle.templates.has(template))
      report(
        `actions[${i}].config.template`,
        `${JSON.stringify(template)} is not a template of this file; ${lifecycle.templates.size === 0 ? 'define it under templates:' : `use ${[...lifecycle.templates.keys()].join(', ')}`}`,
      )
  })
  return issues.length === before ? rule : null
}

function readEscalation(name: string | undefined, lifecycle: AlertLifecycleConfig, report: Report): string | null {
  if (name === undefined) return null
  if (lifecycle.escalationPolicies.has(name)) return name
  report(
    'escalation',
    `${JSON.stringify(name)} is not an escalation policy of this file; ${lifecycle.escalationPolicies.size === 0 ? 'define it under escalation_policies:' : `use ${[...lifecycle.escalationPolicies.keys()].join(', ')}`}`,
  )
  return null
}

function readMaintenanceWindow(entry: MaintenanceWindowEntry, issues: AlertRulesConfigIssue[], ruleIds: ReadonlySet<string>): MaintenanceWindow | null {
  const name = entry.name
  const before = issues.length
  const report: Report = (field, message) => issues.push({ rule: null, maintenanceWindow: name, field, message })
  const rules = entry.rules ?? null
  const unknown = (rules ?? []).filter((r) => !ruleIds.has(r))
  if (unknown.length > 0)
    report(
      'rules',
      `${unknown.map((u) => `'${u}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a rule of this file; use alert_ids of rules: ${[...ruleIds].join(', ')}`,
    )
  // Two forms, recurring or once; the schema lets each field through, the combination is checked here.
  const cronForm = entry.schedule !== undefined || entry.duration !== undefined
  const absoluteForm = entry.start !== undefined || entry.end !== undefined
  let window: MaintenanceWindow | null = null
  if (cronForm && absoluteForm) report(null, 'give either schedule + duration (recurring) or start + end (once), not both')
  else if (cronForm) {
    if (entry.schedule === undefined)
      report('schedule', 'is required with duration: a 5-field cron of when each window starts, e.g. "0 2 * * 0" (Sundays 02:00)')
    if (entry.duration === undefined) report('duration', 'is required with schedule: how long each window lasts, e.g. 2h')
    const tz = timezone(entry.timezone, 'timezone', report)
    const problem = entry.schedule === undefined ? null : CronSchedule.problem(entry.schedule, tz)
    if (problem !== null)
      report('schedule', `${JSON.stringify(entry.schedule)} ${problem}; write 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * 0"`)
    const durationMs = entry.duration === undefined ? Number.NaN : duration(entry.duration, 'duration', report, false)
    window = { kind: 'cron', name, rules, cron: String(entry.schedule), timezone: tz, durationMs }
  } else if (absoluteForm) {
    if (entry.timezone !== undefined) report('timezone', 'applies to schedule only; start and end carry their own offset')
    const startMs =
      entry.start === undefined ? (report('start', 'is required with end, e.g. "2026-12-01T22:00:00Z"'), Number.NaN) : instant(entry.start, 'start', report)
    const endMs =
      entry.end === undefined ? (report('end', 'is required with start, e.g. "2026-12-02T02:00:00Z"'), Number.NaN) : instant(entry.end, 'end', report)
    if (Number.isFinite(startMs) && Number.isFinite(endMs) && endMs <= startMs) report('end', 'must be after start')
    window = { kind: 'absolute', name, rules, startMs, endMs }
  } else report(null, 'needs schedule + duration (a recurring window, e.g. schedule: "0 2 * * 0", duration: 2h) or start + end (ISO-8601 times)')
  return issues.length === before ? window : null
}

/**
 * A schema issue in the file's terms: issues inside a rule or maintenance window name it (by its
 * alert_id or name when it has one) and give the field relative to it, as the checks below do.
 */
function fileIssueOf(root: unknown, issue: ConfigIssue): AlertRulesConfigIssue {
  const [section, index, ...rest] = issue.path
  const field = rest.length === 0 ? null : fieldPath(rest)
  const entry =
    isMapping(root) && Array.isArray(root[section as string]) && typeof index === 'number' ? (root[section as string] as unknown[])[index] : undefined
  const named = (key: string): string | null => (isMapping(entry) && typeof entry[key] === 'string' && entry[key].trim().length > 0 ? entry[key] : null)
  if (section === 'rules' && typeof index === 'number')
    return { rule: named('alert_id') ?? `rules[${index}]`, maintenanceWindow: null, field, message: issue.message }
  if (section === 'maintenance_windows' && typeof index === 'number')
    return { rule: null, maintenanceWindow: named('name') ?? `maintenance_windows[${index}]`, field, message: issue.message }
  return { rule: null, maintenanceWindow: null, field: issue.path.length === 0 ? null : fieldPath(issue.path), message: issue.message }
}

/** Parses and checks a rules file's text; throws AlertRulesConfigError listing every issue. */
export function parseAlertRulesConfig(text: string, options: AlertRulesParseOptions = {}): AlertRulesConfig {
  const source = options.source ?? '<inline>'
  const parsed = parseConfigText(text)
  if (parsed.issues.length > 0)
    throw new AlertRulesConfigError(
      source,
      parsed.issues.map((i) => ({ rule: null, maintenanceWindow: null, field: null, message: i.message })),
    )
  const root = parsed.value
  const fileIssue = (field: string | null, message: string): AlertRulesConfigIssue => ({ rule: null, maintenanceWindow: null, field, message })
  // Another kind of file (or an empty one) gets one clear issue, not a list of everything it lacks.
  if (!isMapping(root) || !Array.isArray(root.rules))
    throw new AlertRulesConfigError(source, [
      fileIssue('rules', 'is required: a list of alert rules (rules: [- alert_id: ..., name: ..., conditions: ..., actions: ...])'),
    ])
  const schemaIssues = validateConfig(validator, root)
  if (schemaIssues.length > 0)
    throw new AlertRulesConfigError(
      source,
      schemaIssues.map((i) => fileIssueOf(root, i)),
    )
  const file = root as unknown as RulesFile

  const issues: AlertRulesConfigIssue[] = []
  const lifecycle = readLifecycleConfig(file, (field, message) => issues.push(fileIssue(field, message)))
  const routing: AlertRoute[] = []
  ;(file.routing ?? []).forEach((entry, i) => {
    const before = issues.length
    const route = readRoute(entry, i, (field, message) => issues.push(fileIssue(field, message)))
    if (issues.length === before) routing.push(route)
  })
  const routed = routing.length > 0 || (file.routing ?? []).length > 0
  const knownDetectors = options.knownDetectorIds === undefined ? null : new Set(options.knownDetectorIds)
  const dimensions = new Set(options.knownDimensions ?? [])
  const rules: AlertRule[] = []
  const seen = new Set<string>()
  for (const entry of file.rules) {
    const rule = readRule(entry, issues, knownDetectors, routed, lifecycle, dimensions)
    if (seen.has(entry.alert_id))
      issues.push({
        rule: entry.alert_id,
        maintenanceWindow: null,
        field: 'alert_id',
        message: 'is used by more than one rule; alert_ids must be unique (they are part of alert ids and group keys)',
      })
    seen.add(entry.alert_id)
    if (rule) rules.push(rule)
  }
  if (lifecycle.groupBy !== null) {
    const known = groupableLabels(file.rules, options.knownDimensions ?? [])
    for (const problem of groupByProblems(lifecycle.groupBy, known)) issues.push(fileIssue('grouping.groupBy', problem))
  }
  const maintenanceWindows: MaintenanceWindow[] = []
  const names = new Set<string>()
  for (const entry of file.maintenance_windows ?? []) {
    const window = readMaintenanceWindow(entry, issues, seen)
    if (window === null) continue
    if (names.has(window.name))
      issues.push({ rule: null, maintenanceWindow: window.name, field: 'name', message: 'is used by more than one maintenance window; names must be unique' })
    names.add(window.name)
    maintenanceWindows.push(window)
  }
  if (issues.length > 0) throw new AlertRulesConfigError(source, issues)
  return { source, rules, maintenanceWindows, routing, lifecycle, document: root, knownDimensions: [...new Set(options.knownDimensions ?? [])] }
}

/**
 * The labels a notification group can be keyed by (alert-notification.ts `groupingLabels`): those of
 * every anomaly, the rules' grouping fields and `labels:`, and the detectors' dimensions.
 */
function groupableLabels(rules: readonly RuleEntry[], dimensions: Iterable<string>): GroupableLabels {
  return {
    anomaly: [...ANOMALY_GROUPING_LABELS, ...new Set(rules.flatMap((r) => r.throttling?.grouping ?? DEFAULT_GROUPING))].filter(
      (n, i, all) => all.indexOf(n) === i,
    ),
    ruleLabels: [...new Set(rules.flatMap((r) => Object.keys(r.labels ?? {})))],
    dimensions: [...new Set(dimensions)],
  }
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
