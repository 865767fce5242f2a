/**
 * Versions of the alert rules, kept beside the detectors' in the config topic (../config-versions.ts)
 * under `alert-rules/` keys: each version is a whole rules file, its `rules:` list as definitions
 * and the other sections (routing, maintenance_windows, grouping, ...) as `sections`. A version is
 * checked exactly as the rules file is (alert-rules-config.ts), so a bad one is refused with each
 * rule, field and fix, and `current` stays.
 *
 * What applies without a restart (live-alert-rules.ts) is what the rules stage and the lifecycle
 * read per anomaly or per tick: a rule's name, description, enabled, filters, aggregation
 * (function, threshold and window size), actions, throttling (max_frequency and grouping),
 * schedule and escalation; deleted and new rules; the routing tree with its repeat_intervals, the
 * maintenance windows, and the grouping, resolve and escalation_policies sections. The rules stage
 * always has its window, throttle and route-repeat stores, so a version may add throttling or a
 * repeat_interval where none was at start. Some live changes change the shape of kept state, and
 * what they touch starts fresh (`live-fresh`):
 * - a new aggregation window size: windows of the old size are never read as windows of the new
 *   one (a stored window carries its start and end, alert-rules-processor.ts), so the rule counts
 *   from an empty window;
 * - a new throttling grouping: the group keys change, so windows and throttles start empty per group;
 * - a new `grouping.groupBy`: notification groups are keyed by it, so new alerts start new groups;
 *   alerts already grouped stay in their old groups until resolved (acknowledge and resolve still
 *   reach them; auto-resolve no longer hears of their anomalies, so it resolves them after its timeout).
 * A rule's labels and the templates section apply live too: the rules stage routes and groups by
 * the labels, and the dispatcher beside the topology reads both from the same version in force
 * (rules-in-force.ts), so silences match the labels the alert was routed by.
 * What is read at start is `restart-required`: an aggregation window longer than the window store
 * keeps (`windowCapacityMs`: the largest window at start, at least LIVE_WINDOW_CAPACITY_MS), whose
 * windows would expire before they close. A rule with such a change runs as it started (a new one:
 * not at all) until instances restart with the version as their rules file; its other changes wait
 * with it.
 */
import { type Applied, type ConfigVersion, type VersionKeys, changedKeys, readVersion } from '../config-versions.js'
import { type AlertRule, type AlertRulesConfig, parseAlertRulesConfig } from './alert-rules-config.js'
import { DEFAULT_LIFECYCLE } from './lifecycle-config.js'

export const ALERT_RULE_VERSION_KEYS: VersionKeys = { prefix: 'alert-rules/', subjectField: 'rule_id' }

/**
 * The longest aggregation window a version can introduce live when no rule had a longer one at
 * start: the window store keeps windows this long (plus the grace), whatever the start-up rules.
 */
export const LIVE_WINDOW_CAPACITY_MS = 3_600_000

/** What the alert topology's state stores can hold (alert-topology.ts builds them from this). */
export interface AlertStateStores {
  /** The longest aggregation window the window store keeps until it closes. */
  readonly windowCapacityMs: number
}

/** The stores the rules stage builds for the start-up `rules`: windows up to the longest of theirs, at least LIVE_WINDOW_CAPACITY_MS. */
export function alertStateStores(rules: readonly AlertRule[]): AlertStateStores {
  const sizes = rules.filter((r) => r.enabled).flatMap((r) => (r.aggregation === null ? [] : [r.aggregation.windowMs]))
  return { windowCapacityMs: Math.max(LIVE_WINDOW_CAPACITY_MS, ...sizes) }
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

/** The fields of rule `rule` (new or changed) that the rules stage cannot take live with the stores it has. */
export function ruleRestartFields(rule: AlertRule, stores: AlertStateStores): string[] {
  // Every other field of a rule, and every section of the file (templates included: the dispatcher
  // reads them from the version in force), applies live.
  return rule.aggregation !== null && rule.aggregation.windowMs > stores.windowCapacityMs ? ['aggregation'] : []
}

/** The start of an instance: its rules file parsed, as a document, and the stores its topology has. */
export interface StartedRules {
  readonly config: AlertRulesConfig
  readonly sections: Readonly<Record<string, unknown>>
  readonly stores: AlertStateStores
}

/** Per rule, the fields an instance started as `started` runs differently until its topology is rebuilt with `next`. */
export function rulesPendingRestart(started: StartedRules, next: AlertRulesConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const rule of next.rules) {
    const fields = ruleRestartFields(rule, started.stores)
    if (fields.length > 0) out[rule.id] = fields
  }
  return out
}

/** What the rules stage of an instance started as `started` runs for version `next`: the live part of it. */
export function runnableRules(started: StartedRules, next: AlertRulesConfig): Pick<AlertRulesConfig, 'rules' | 'routing' | 'maintenanceWindows' | 'lifecycle'> {
  const before = new Map(started.config.rules.map((r) => [r.id, r]))
  const rules = next.rules.flatMap((rule) => {
    if (ruleRestartFields(rule, started.stores).length === 0) return [rule]
    const was = before.get(rule.id)
    return was === undefined ? [] : [was]
  })
  // The lifecycle's sections all apply live (templates: the dispatcher reads them from the version in force too).
  return { rules, routing: next.routing, maintenanceWindows: next.maintenanceWindows, lifecycle: next.lifecycle ?? DEFAULT_LIFECYCLE }
}

/** One field of one rule (rule_id null: a section of the file) that a version changes, and how it applies on this instance. */
export interface RuleVersionChange {
  readonly rule_id: string | null
  /** A rule field (as parsed: filters, aggregation, throttling, ...), `(created)` / `(deleted)`, or a section. */
  readonly field: string
  readonly applied: Applied
}

/**
 * The fields whose change empties the rule's kept state (it starts fresh): a new aggregation window
 * size (windows of another size are ignored) and a new throttling grouping (new group keys).
 */
export function freshFields(before: AlertRule, after: AlertRule): ReadonlySet<string> {
  const out = new Set<string>()
  if (before.aggregation !== null && after.aggregation !== null && before.aggregation.windowMs !== after.aggregation.windowMs) out.add('aggregation')
  if (JSON.stringify(before.throttling.grouping) !== JSON.stringify(after.throttling.grouping)) out.add('throttling')
  return out
}

/** What `next` changes against `previous` (the version it replaces), and how each change applies on an instance started as `started`. */
export function ruleVersionChanges(
  started: StartedRules,
  previous: { readonly config: AlertRulesConfig; readonly sections: Readonly<Record<string, unknown>> },
  next: { readonly config: AlertRulesConfig; readonly sections: Readonly<Record<string, unknown>> },
  /** How a change the running topology cannot take applies: `live-fresh` where instances rebuild it (topology-rebuild.ts). */
  structural: Applied = 'restart-required',
): RuleVersionChange[] {
  const pending = rulesPendingRestart(started, next.config)
  const prior = new Map(previous.config.rules.map((r) => [r.id, r]))
  const out: RuleVersionChange[] = []
  for (const rule of next.config.rules) {
    const waits = pending[rule.id] !== undefined
    const was = prior.get(rule.id)
    if (was === undefined) out.push({ rule_id: rule.id, field: '(created)', applied: waits ? structural : 'live' })
    else
      for (const field of changedKeys(was as unknown as Record<string, unknown>, rule as unknown as Record<string, unknown>))
        out.push({ rule_id: rule.id, field, applied: waits ? structural : freshFields(was, rule).has(field) ? 'live-fresh' : 'live' })
  }
  const kept = new Set(next.config.rules.map((r) => r.id))
  for (const rule of previous.config.rules) if (!kept.has(rule.id)) out.push({ rule_id: rule.id, field: '(deleted)', applied: 'live' })
  const waiting = new Set(pending['(file)'] ?? [])
  const regrouped = JSON.stringify(previous.config.lifecycle?.groupBy ?? null) !== JSON.stringify(next.config.lifecycle?.groupBy ?? null)
  for (const section of changedKeys(previous.sections, next.sections))
    out.push({
      rule_id: null,
      field: section,
      applied: waiting.has(section) ? structural : section === 'grouping' && regrouped ? 'live-fresh' : 'live',
    })
  return out
}
