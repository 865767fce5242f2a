/**
 * The alert rules in force as the rules stage applies them, on every instance: the version in
 * `alert-rules/current` of the config topic (read as a global table, alert-rule-versions.ts) decides
 * which rules match an anomaly, their filters, aggregation thresholds, throttling, schedules and
 * actions, the routing tree and the maintenance windows, and the lifecycle's grouping, auto-resolve
 * and escalations. `observe` is called with `current` by a
 * join in front of the matcher and in front of the rules processor (they may run in different
 * tasks, even instances); it parses a new version once (by identity: the global store hands out the
 * same object until the row changes); `refresh` reads `current` itself, for the window store's
 * prefetch, which runs before a batch's records reach the joins. Window and throttle state is kept:
 * it is keyed by rule and group, which a live change does not rename (a new throttling grouping or
 * window size starts the rule fresh, alert-rule-versions.ts).
 *
 * Bad input never stops alerting: a `current` that is not a valid version (the topic is writable by
 * others than the API) leaves the rules as the instance's start-up file said (applied version 0).
 */
import type { KeyValueStore } from '../../../state/types.js'
import type { ProcessorContext } from '../../../topology/index.js'
import { ActiveSchedule } from './active-schedule.js'
import { type StartedRules, parsedRulesVersion, runnableRules } from './alert-rule-versions.js'
import type { AlertRoute, AlertRule, AlertRulesConfig } from './alert-rules-config.js'
import { DEFAULT_LIFECYCLE, type AlertLifecycleConfig } from './lifecycle-config.js'
import { MaintenanceCalendar } from './maintenance-calendar.js'
import { RuleMatcher } from './rule-matcher.js'

/** What the matcher and the rules processor read per record. */
export interface ActiveRules {
  readonly rules: ReadonlyMap<string, AlertRule>
  readonly matcher: RuleMatcher
  readonly schedules: ReadonlyMap<string, ActiveSchedule>
  readonly maintenance: MaintenanceCalendar
  readonly routing: readonly AlertRoute[]
  /** The largest max_frequency (idle throttle entries are removed after it and a margin). */
  readonly maxThrottleMs: number
  readonly maxRepeatMs: number
  /** The distinct aggregation window sizes (the window store's prefetch reads one window per size). */
  readonly windowSizes: readonly number[]
  /** Grouping, auto-resolve and escalation policies, as the lifecycle applies them. */
  readonly lifecycle: AlertLifecycleConfig
}

/** The rules stage's view of a rule set (enabled rules only). */
export function activeRules(set: Pick<AlertRulesConfig, 'rules' | 'routing' | 'maintenanceWindows' | 'lifecycle'>): ActiveRules {
  const rules = set.rules.filter((r) => r.enabled)
  return {
    rules: new Map(rules.map((r) => [r.id, r])),
    matcher: new RuleMatcher(rules),
    schedules: new Map(rules.flatMap((r) => (r.schedule === null ? [] : [[r.id, new ActiveSchedule(r.schedule)] as const]))),
    maintenance: new MaintenanceCalendar(set.maintenanceWindows),
    routing: set.routing,
    maxThrottleMs: Math.max(0, ...rules.map((r) => r.throttling.maxFrequencyMs)),
    maxRepeatMs: Math.max(0, ...set.routing.map((r) => r.repeatIntervalMs)),
    windowSizes: [...new Set(rules.flatMap((r) => (r.aggregation === null ? [] : [r.aggregation.windowMs])))],
    lifecycle: set.lifecycle ?? DEFAULT_LIFECYCLE,
  }
}

/** The version in force as the rules stage applies it; one per topology (its tasks share it, as they share the global table). */
export class LiveAlertRules {
  private seen: unknown = undefined
  private readonly initial: ActiveRules
  /** The rule set in force on this instance. */
  active: ActiveRules
  /** The version applied (0: the start-up rules file). */
  applied = 0

  /** `onApplied`: told each version applied, once (the config version gauge). */
  constructor(
    private readonly started: StartedRules,
    private readonly onApplied?: (version: number) => void,
  ) {
    this.initial = activeRules(started.config)
    this.active = this.initial
  }

  private read: (() => unknown) | null = null

  /** Where `refresh` reads `alert-rules/current` (the global table, once a task has it). */
  attach(read: () => unknown): void {
    this.read = read
  }

  /** Takes the version in force from the attached table, if any (a no-op unless its row changed). */
  refresh(): ActiveRules {
    if (this.read !== null) this.observe(this.read())
    return this.active
  }

  /** Takes the version in force, `alert-rules/current` of the global table; a no-op unless its row changed. */
  observe(current: unknown): void {
    if (current === this.seen) return
    this.seen = current
    const parsed = parsedRulesVersion(current, this.started.config.knownDimensions)
    this.active = parsed === null ? this.initial : activeRules(runnableRules(this.started, parsed.config))
    const version = parsed?.version ?? 0
    if (version !== this.applied) {
      this.applied = version
      this.onApplied?.(version)
    }
  }
}

/** Where a processor reads the version in force itself: the global table's store and key, and the rules it feeds. */
export interface LiveRulesTable {
  readonly store: string
  readonly key: string
  readonly rules: LiveAlertRules
}

/**
 * Lets `table.rules.refresh()` read the global table (a processor's init: global stores are
 * readable by every processor). Any task of the instance may be the first to run, so each attaches.
 */
export function attachLiveRules(context: Pick<ProcessorContext<never, never>, 'getStateStore'>, table: LiveRulesTable | undefined): void {
  if (table === undefined) return
  const store = context.getStateStore<KeyValueStore<string, unknown>>(table.store)
  table.rules.attach(() => store.get(table.key))
}
