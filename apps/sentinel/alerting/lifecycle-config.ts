/**
 * The alert lifecycle's part of the rules file (Alertmanager-like; seed 001 `alerting.grouping`,
 * "Escalation policies", `template:`):
 *
 *   grouping:                          # one notification per group, batched
 *     groupBy: [application_id, detector_id]   # alert labels (alert-notification.ts alertLabels); absent: each alert alone
 *     groupWait: 30s                   # a new group waits this long for more alerts before its first notification
 *     groupInterval: 5m                # then at most one notification of new alerts per interval
 *   resolve:
 *     timeout: 15m                     # auto-resolve an alert when no anomaly matched its rule group for this long (0: never)
 *   escalation_policies:
 *     - name: page-then-lead
 *       levels:                        # unacknowledged this long after its first notification → these receivers
 *         - { after: 15m, receivers: [pagerduty-oncall] }
 *         - { after: 45m, receivers: [slack-incidents] }
 *   templates:                         # Mustache (notification-templates.ts); an action picks one with config.template
 *     critical-anomaly: { title: "...", text: "..." }
 *
 * Rules name a policy with `escalation: page-then-lead`. Durations are wall-clock time, as in
 * Alertmanager: they are about when people are told, not about when the data happened.
 */
import { parseDuration } from '../detectors-config.js'
import { type NotificationTemplate, templateProblems } from './notification-templates.js'

export interface EscalationLevel {
  /** Wall-clock time after the alert's first notification, still unacknowledged. */
  readonly afterMs: number
  readonly receivers: readonly string[]
}

export interface EscalationPolicy {
  readonly name: string
  /** Ordered by `afterMs`, ascending. */
  readonly levels: readonly EscalationLevel[]
}

export interface AlertLifecycleConfig {
  /** null: every alert is its own group. */
  readonly groupBy: readonly string[] | null
  readonly groupWaitMs: number
  readonly groupIntervalMs: number
  /** 0: alerts resolve only through the API. */
  readonly resolveTimeoutMs: number
  readonly escalationPolicies: ReadonlyMap<string, EscalationPolicy>
  readonly templates: ReadonlyMap<string, NotificationTemplate>
}

export const DEFAULT_LIFECYCLE: AlertLifecycleConfig = { groupBy: null, groupWaitMs: 0, groupIntervalMs: 0, resolveTimeoutMs: 0, escalationPolicies: new Map(), templates: new Map() }

type Report = (field: string, message: string) => void

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function known(value: Record<string, unknown>, fields: readonly string[], prefix: string, report: Report): void {
  for (const field of Object.keys(value)) if (!fields.includes(field)) report(`${prefix}${field}`, `is not a known field; the fields here are ${fields.join(', ')}`)
}

function waitDuration(value: unknown, field: string, report: Report): number {
  if (value === undefined || value === 0 || value === '0') return 0
  const ms = parseDuration(value)
  if (ms === null) report(field, `${JSON.stringify(value)} is not a duration; write e.g. 30s, 5m, 1h (or 0 for none)`)
  return ms ?? 0
}

function names(value: unknown, field: string, report: Report, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    report(field, `must be a non-empty list of ${what}`)
    return []
  }
  return value as string[]
}

function readGrouping(raw: unknown, report: Report): Pick<AlertLifecycleConfig, 'groupBy' | 'groupWaitMs' | 'groupIntervalMs'> {
  if (raw === undefined) return DEFAULT_LIFECYCLE
  if (!isMapping(raw)) {
    report('grouping', 'must be a mapping { groupBy: [application_id, detector_id], groupWait: 30s, groupInterval: 5m }')
    return DEFAULT_LIFECYCLE
  }
  known(raw, ['groupBy', 'groupWait', 'groupInterval'], 'grouping.', report)
  const groupBy = raw.groupBy === undefined ? null : names(raw.groupBy, 'grouping.groupBy', report, 'alert labels, e.g. [application_id, detector_id] (rule, severity, tenant_id, team, ...)')
  if (groupBy?.includes('alert_id')) report('grouping.groupBy', "alert_id is not a grouping label (a group's later anomalies have no alert yet); group by rule and its fields, or leave groupBy out (each rule group alone)")
  return { groupBy, groupWaitMs: waitDuration(raw.groupWait, 'grouping.groupWait', report), groupIntervalMs: waitDuration(raw.groupInterval, 'grouping.groupInterval', report) }
}

function readResolve(raw: unknown, report: Report): number {
  if (raw === undefined) return 0
  if (!isMapping(raw)) {
    report('resolve', 'must be a mapping { timeout: 15m }')
    return 0
  }
  known(raw, ['timeout'], 'resolve.', report)
  return waitDuration(raw.timeout, 'resolve.timeout', report)
}

function readPolicies(raw: unknown, report: Report): Map<string, EscalationPolicy> {
  const policies = new Map<string, EscalationPolicy>()
  if (raw === undefined) return policies
  if (!Array.isArray(raw)) {
    report('escalation_policies', 'must be a list of { name, levels: [{ after: 15m, receivers: [...] }] }')
    return policies
  }
  raw.forEach((entry: unknown, i) => {
    const field = `escalation_policies[${i}]`
    if (!isMapping(entry)) return report(field, 'must be a mapping { name, levels: [{ after: 15m, receivers: [...] }] }')
    known(entry, ['name', 'levels'], `${field}.`, report)
    const name = typeof entry.name === 'string' && entry.name.length > 0 ? entry.name : null
    if (name === null) return report(`${field}.name`, 'is required: a non-empty string rules refer to with escalation: <name>')
    if (policies.has(name)) return report(`${field}.name`, `'${name}' is used by more than one policy; names must be unique`)
    if (!Array.isArray(entry.levels) || entry.levels.length === 0) return report(`${field}.levels`, 'is required: a non-empty list of { after: 15m, receivers: [pagerduty-oncall] }')
    const levels: EscalationLevel[] = []
    entry.levels.forEach((level: unknown, j) => {
      const lf = `${field}.levels[${j}]`
      if (!isMapping(level)) return report(lf, 'must be a mapping { after: 15m, receivers: [...] }')
      known(level, ['after', 'receivers'], `${lf}.`, report)
      const afterMs = parseDuration(level.after)
      if (afterMs === null) return report(`${lf}.after`, `${JSON.stringify(level.after)} is not a duration; write how long unacknowledged before this level, e.g. 15m`)
      const before = levels.at(-1)
      if (before !== undefined && afterMs <= before.afterMs) return report(`${lf}.after`, 'must be later than the level before it; list levels in the order they are reached')
      levels.push({ afterMs, receivers: names(level.receivers, `${lf}.receivers`, report, 'receiver names from the receivers file') })
    })
    policies.set(name, { name, levels })
  })
  return policies
}

function readTemplates(raw: unknown, report: Report): Map<string, NotificationTemplate> {
  const templates = new Map<string, NotificationTemplate>()
  if (raw === undefined) return templates
  if (!isMapping(raw)) {
    report('templates', 'must be a mapping of name → { title, text } (Mustache)')
    return templates
  }
  for (const [name, entry] of Object.entries(raw)) {
    const field = `templates.${name}`
    if (!isMapping(entry)) {
      report(field, 'must be a mapping { title: "...", text: "..." } (either may be left out)')
      continue
    }
    known(entry, ['title', 'text'], `${field}.`, report)
    const part = (key: 'title' | 'text'): string | null => {
      const source = entry[key]
      if (source === undefined) return null
      if (typeof source !== 'string') return (report(`${field}.${key}`, 'must be a string (Mustache)'), null)
      for (const problem of templateProblems(source)) report(`${field}.${key}`, problem)
      return source
    }
    const title = part('title')
    const text = part('text')
    if (title === null && text === null) report(field, 'needs a title or a text')
    templates.set(name, { name, title, text })
  }
  return templates
}

/** The lifecycle sections of a rules file's root; every problem goes to `report`. */
export function readLifecycleConfig(root: Record<string, unknown>, report: Report): AlertLifecycleConfig {
  return {
    ...readGrouping(root.grouping, report),
    resolveTimeoutMs: readResolve(root.resolve, report),
    escalationPolicies: readPolicies(root.escalation_policies, report),
    templates: readTemplates(root.templates, report),
  }
}

/** Receivers the lifecycle sends to beside the rules' actions: every escalation level's. */
export function escalationReceivers(config: AlertLifecycleConfig): { id: string; receivers: readonly string[] }[] {
  return [...config.escalationPolicies.values()].flatMap((p) => p.levels.map((l, i) => ({ id: `escalation_policies '${p.name}' level ${i + 1}`, receivers: l.receivers })))
}
