/**
 * The alert lifecycle's part of the rules file (Alertmanager-like; seed 001 `alerting.grouping`,
 * "Escalation policies", `template:`):
 *
 *   grouping:                          # one notification per group, batched
 *     groupBy: [application_id, detector_id]   # alert labels (alert-notification.ts groupingLabels), dimensions too; absent: each alert alone
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
import { closestName } from '../../../schemas/config/closest-name.js'
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

export const DEFAULT_LIFECYCLE: AlertLifecycleConfig = {
  groupBy: null,
  groupWaitMs: 0,
  groupIntervalMs: 0,
  resolveTimeoutMs: 0,
  escalationPolicies: new Map(),
  templates: new Map(),
}

type Report = (field: string, message: string) => void

type Duration = string | number

/** The lifecycle sections as the rules file's schema (config-schemas/alert-rules.schema.json) lets them through. */
export interface LifecycleSections {
  readonly grouping?: { readonly groupBy?: string[]; readonly groupWait?: Duration; readonly groupInterval?: Duration }
  readonly resolve?: { readonly timeout?: Duration }
  readonly escalation_policies?: readonly { readonly name: string; readonly levels: readonly { readonly after: Duration; readonly receivers: string[] }[] }[]
  readonly templates?: Readonly<Record<string, { readonly title?: string; readonly text?: string }>>
}

function waitDuration(value: Duration | undefined, field: string, report: Report): number {
  if (value === undefined || value === 0 || value === '0') return 0
  const ms = parseDuration(value)
  if (ms === null) report(field, `${JSON.stringify(value)} is not a duration; write e.g. 30s, 5m, 1h (or 0 for none)`)
  return ms ?? 0
}

function readGrouping(grouping: LifecycleSections['grouping'], report: Report): Pick<AlertLifecycleConfig, 'groupBy' | 'groupWaitMs' | 'groupIntervalMs'> {
  if (grouping === undefined) return DEFAULT_LIFECYCLE
  const groupBy = grouping.groupBy ?? null
  if (groupBy?.includes('alert_id'))
    report(
      'grouping.groupBy',
      "alert_id is not a grouping label (a group's later anomalies have no alert yet); group by rule and its fields, or leave groupBy out (each rule group alone)",
    )
  return {
    groupBy,
    groupWaitMs: waitDuration(grouping.groupWait, 'grouping.groupWait', report),
    groupIntervalMs: waitDuration(grouping.groupInterval, 'grouping.groupInterval', report),
  }
}

/** The names `grouping.groupBy` may use, by where they come from (for the message). */
export interface GroupableLabels {
  readonly anomaly: readonly string[]
  readonly ruleLabels: readonly string[]
  readonly dimensions: readonly string[]
}

/**
 * `groupBy` names no alert carries: each would put every alert in one "missing" group for that
 * label, which is never what was meant (a typo, or a dimension no detector groups by).
 */
export function groupByProblems(groupBy: readonly string[], known: GroupableLabels): string[] {
  const all = [...known.anomaly, ...known.ruleLabels, ...known.dimensions]
  const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '))
  return groupBy
    .filter((name) => name !== 'alert_id' && !all.includes(name))
    .map((name) => {
      const hint = closestName(name, all)
      return (
        `'${name}' is not a label alerts carry${hint === null ? '' : ` (did you mean ${hint}?)`}; known: ${list(known.anomaly)}; ` +
        `the rules' labels: ${list(known.ruleLabels)}; the detectors' dimensions (their groupBy): ${list(known.dimensions)}. ` +
        "To group by a field of the telemetry, make it a detector's groupBy first"
      )
    })
}

function readPolicies(entries: LifecycleSections['escalation_policies'], report: Report): Map<string, EscalationPolicy> {
  const policies = new Map<string, EscalationPolicy>()
  ;(entries ?? []).forEach((entry, i) => {
    const field = `escalation_policies[${i}]`
    if (policies.has(entry.name)) return report(`${field}.name`, `'${entry.name}' is used by more than one policy; names must be unique`)
    const levels: EscalationLevel[] = []
    entry.levels.forEach((level, j) => {
      const lf = `${field}.levels[${j}]`
      const afterMs = parseDuration(level.after)
      if (afterMs === null)
        return report(`${lf}.after`, `${JSON.stringify(level.after)} is not a duration; write how long unacknowledged before this level, e.g. 15m`)
      const before = levels.at(-1)
      if (before !== undefined && afterMs <= before.afterMs)
        return report(`${lf}.after`, 'must be later than the level before it; list levels in the order they are reached')
      levels.push({ afterMs, receivers: level.receivers })
    })
    policies.set(entry.name, { name: entry.name, levels })
  })
  return policies
}

function readTemplates(entries: LifecycleSections['templates'], report: Report): Map<string, NotificationTemplate> {
  const templates = new Map<string, NotificationTemplate>()
  for (const [name, entry] of Object.entries(entries ?? {})) {
    const part = (key: 'title' | 'text'): string | null => {
      const source = entry[key]
      if (source === undefined) return null
      for (const problem of templateProblems(source)) report(`templates.${name}.${key}`, problem)
      return source
    }
    templates.set(name, { name, title: part('title'), text: part('text') })
  }
  return templates
}

/** The lifecycle sections of a rules file's root, once its schema passed; every problem goes to `report`. */
export function readLifecycleConfig(root: LifecycleSections, report: Report): AlertLifecycleConfig {
  return {
    ...readGrouping(root.grouping, report),
    resolveTimeoutMs: waitDuration(root.resolve?.timeout, 'resolve.timeout', report),
    escalationPolicies: readPolicies(root.escalation_policies, report),
    templates: readTemplates(root.templates, report),
  }
}

/** Receivers the lifecycle sends to beside the rules' actions: every escalation level's. */
export function escalationReceivers(config: AlertLifecycleConfig): { id: string; receivers: readonly string[] }[] {
  return [...config.escalationPolicies.values()].flatMap((p) =>
    p.levels.map((l, i) => ({ id: `escalation_policies '${p.name}' level ${i + 1}`, receivers: l.receivers })),
  )
}
