/**
 * Versions of the alert rules, kept beside the detectors' in the config topic (../config-versions.ts)
 * under `alert-rules/` keys: each version is a whole rules file, its `rules:` list as definitions
 * and the other sections (routing, maintenance_windows, grouping, ...) as `sections`. A version is
 * checked exactly as the rules file is (alert-rules-config.ts), so a bad one is refused with each
 * rule, field and fix, and `current` stays.
 *
 * What applies without a restart (live-alert-rules.ts) is what the rules stage reads per anomaly:
 * a rule's name, description, enabled, filters, aggregation function and threshold, actions,
 * throttling and schedule; deleted and new rules; the routing tree and the maintenance windows.
 * What the topology built at start decides is `restart-required`:
 * - an aggregation window size no rule had at start, a max_frequency when no rule was throttled at
 *   start, a route's repeat_interval when no route had one (their state stores are not in the
 *   topology);
 * - a rule's labels and escalation, and the grouping, resolve, escalation_policies and templates
 *   sections (the lifecycle and the dispatcher read them at start).
 * A rule with such a change runs as it started (a new one: not at all) until instances restart
 * with the version as their rules file; its other changes wait with it. Changing a rule's
 * throttling grouping applies live but its groups start fresh (their windows and throttles are
 * keyed by the old grouping).
 */
import { type Applied, type ConfigVersion, type VersionKeys, changedKeys, readVersion } from '../config-versions.js'
import { type AlertRoute, type AlertRule, type AlertRulesConfig, parseAlertRulesConfig } from './alert-rules-config.js'

export const ALERT_RULE_VERSION_KEYS: VersionKeys = { prefix: 'alert-rules/', subjectField: 'rule_id' }

/** The sections the lifecycle and the dispatcher read at start. */
const RESTART_SECTIONS = new Set(['grouping', 'resolve', 'escalation_policies', 'templates'])
const RESTART_RULE_FIELDS = new Set(['labels', 'escalation'])

/** The state stores the alert topology was built with (alert-topology.ts builds exactly these). */
export interface AlertStateStores {
  /** The aggregation window sizes of the window store. */
  readonly windowSizes: ReadonlySet<number>
  readonly throttles: boolean
  readonly repeats: boolean
}

/** The stores the rules stage needs for `rules` (enabled ones) and `routing`. */
export function alertStateStores(rules: readonly AlertRule[], routing: readonly AlertRoute[]): AlertStateStores {
  const enabled = rules.filter((r) => r.enabled)
  return {
    windowSizes: new Set(enabled.flatMap((r) => (r.aggregation === null ? [] : [r.aggregation.windowMs]))),
    throttles: enabled.some((r) => r.throttling.maxFrequencyMs > 0),
    repeats: routing.some((r) => r.repeatIntervalMs > 0),
  }
}

/** A rules file as a version: its rules as definitions, the rest as sections. */
export function rulesFileVersion(document: Readonly<Record<string, unknown>>): Pick<ConfigVersion, 'definitions' | 'sections'> {
  const { rules, ...sections } = document
  return { definitions: Array.isArray(rules) ? (rules as Record<string, unknown>[]) : [], sections }
}

/** A version as a rules file. */
export const rulesDocument = (version: Pick<ConfigVersion, 'definitions' | 'sections'>): Record<string, unknown> => ({
  ...(version.sections ?? {}),
  rules: version.definitions,
})

/** Version 0: the rules file the instance started from (as read at start). */
export function startedRulesVersion(document: Readonly<Record<string, unknown>>, startedAt: number): ConfigVersion {
  return { version: 0, created_at: new Date(startedAt).toISOString(), op: 'file', subject: null, from_version: null, ...rulesFileVersion(document) }
}

/** Checks a version as the rules file would be checked; throws AlertRulesConfigError naming each rule, field and fix. */
export function checkRulesVersion(
  version: Pick<ConfigVersion, 'definitions' | 'sections' | 'version'>,
  refs: { knownDetectorIds?: Iterable<string> | undefined; knownDimensions?: Iterable<string> | undefined } = {},
): AlertRulesConfig {
  // YAML is a superset of JSON: the file's parser reads the version as it would read the file.
  return parseAlertRulesConfig(JSON.stringify(rulesDocument(version)), {
    source: `alert rules version ${version.version}`,
    ...(refs.knownDetectorIds === undefined ? {} : { knownDetectorIds: refs.knownDetectorIds }),
    ...(refs.knownDimensions === undefined ? {} : { knownDimensions: refs.knownDimensions }),
  })
}

/** A stored `alert-rules/current` parsed, or null when it is no valid version (the start-up rules apply). */
export function parsedRulesVersion(
  current: unknown,
  knownDimensions?: Iterable<string>,
): { version: number; config: AlertRulesConfig; sections: Readonly<Record<string, unknown>> } | null {
  const version = readVersion(current, ALERT_RULE_VERSION_KEYS.subjectField)
  if (version === null) return null
  try {
    return { version: version.version, config: checkRulesVersion(version, { knownDimensions }), sections: version.sections ?? {} }
  } catch {
    return null
  }
}

/** The fields of rule `after` that the rules stage built from `before` (its start) cannot take live; a new rule is `before` undefined. */
export function ruleRestartFields(before: AlertRule | undefined, after: AlertRule, stores: AlertStateStores): string[] {
  const out = new Set<string>()
  if (after.aggregation !== null && !stores.windowSizes.has(after.aggregation.windowMs)) out.add('aggregation')
  if (after.throttling.maxFrequencyMs > 0 && !stores.throttles) out.add('throttling')
  const a = (before ?? {}) as Record<string, unknown>
  const b = after as unknown as Record<string, unknown>
  for (const field of RESTART_RULE_FIELDS)
    if (JSON.stringify(a[field] ?? (field === 'labels' ? {} : null)) !== JSON.stringify(b[field] ?? (field === 'labels' ? {} : null))) out.add(field)
  return [...out].sort()
}

const routingNeedsRestart = (routing: readonly AlertRoute[], stores: AlertStateStores): boolean =>
  !stores.repeats && routing.some((r) => r.repeatIntervalMs > 0)

/** The sections of `next` that differ from the start and need a restart. */
function sectionRestartFields(
  started: Readonly<Record<string, unknown>>,
  next: Readonly<Record<string, unknown>>,
  nextRouting: readonly AlertRoute[],
  stores: AlertStateStores,
): string[] {
  return changedKeys(started, next).filter((k) => RESTART_SECTIONS.has(k) || (k === 'routing' && routingNeedsRestart(nextRouting, stores)))
}

/** The start of an instance: its rules file parsed, as a document, and the stores its topology has. */
export interface StartedRules {
  readonly config: AlertRulesConfig
  readonly sections: Readonly<Record<string, unknown>>
  readonly stores: AlertStateStores
}

/** Per rule (or `(file)` for sections), the fields an instance started as `started` runs differently until restarted with `next`. */
export function rulesPendingRestart(started: StartedRules, next: AlertRulesConfig, nextSections: Readonly<Record<string, unknown>>): Record<string, string[]> {
  const before = new Map(started.config.rules.map((r) => [r.id, r]))
  const out: Record<string, string[]> = {}
  for (const rule of next.rules) {
    const fields = ruleRestartFields(before.get(rule.id), rule, started.stores)
    if (fields.length > 0) out[rule.id] = fields
  }
  const sections = sectionRestartFields(started.sections, nextSections, next.routing, started.stores)
  if (sections.length > 0) out['(file)'] = sections
  return out
}

/** What the rules stage of an instance started as `started` runs for version `next`: the live part of it. */
export function runnableRules(started: StartedRules, next: AlertRulesConfig): Pick<AlertRulesConfig, 'rules' | 'routing' | 'maintenanceWindows'> {
  const before = new Map(started.config.rules.map((r) => [r.id, r]))
  const rules = next.rules.flatMap((rule) => {
    if (ruleRestartFields(before.get(rule.id), rule, started.stores).length === 0) return [rule]
    const was = before.get(rule.id)
    return was === undefined ? [] : [was]
  })
  return {
    rules,
    routing: routingNeedsRestart(next.routing, started.stores) ? started.config.routing : next.routing,
    maintenanceWindows: next.maintenanceWindows,
  }
}

/** One field of one rule (rule_id null: a section of the file) that a version changes, and how it applies on this instance. */
export interface RuleVersionChange {
  readonly rule_id: string | null
  /** A rule field (as parsed: filters, aggregation, throttling, ...), `(created)` / `(deleted)`, or a section. */
  readonly field: string
  readonly applied: Applied
}

/** What `next` changes against `previous` (the version it replaces), and how each change applies on an instance started as `started`. */
export function ruleVersionChanges(
  started: StartedRules,
  previous: { readonly config: AlertRulesConfig; readonly sections: Readonly<Record<string, unknown>> },
  next: { readonly config: AlertRulesConfig; readonly sections: Readonly<Record<string, unknown>> },
): RuleVersionChange[] {
  const pending = rulesPendingRestart(started, next.config, next.sections)
  const prior = new Map(previous.config.rules.map((r) => [r.id, r]))
  const out: RuleVersionChange[] = []
  for (const rule of next.config.rules) {
    const applied: Applied = pending[rule.id] === undefined ? 'live' : 'restart-required'
    const was = prior.get(rule.id)
    if (was === undefined) out.push({ rule_id: rule.id, field: '(created)', applied })
    else
      for (const field of changedKeys(was as unknown as Record<string, unknown>, rule as unknown as Record<string, unknown>))
        out.push({ rule_id: rule.id, field, applied })
  }
  const kept = new Set(next.config.rules.map((r) => r.id))
  for (const rule of previous.config.rules) if (!kept.has(rule.id)) out.push({ rule_id: rule.id, field: '(deleted)', applied: 'live' })
  const waiting = new Set(pending['(file)'] ?? [])
  for (const section of changedKeys(previous.sections, next.sections))
    out.push({ rule_id: null, field: section, applied: waiting.has(section) ? 'restart-required' : 'live' })
  return out
}
