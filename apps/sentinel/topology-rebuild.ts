/**
 * A version that the running topology cannot take live is applied by rebuilding the topology in
 * the running process, on every instance: a detector version with a new detector, another window,
 * groupBy or strategy (detector-versions.ts `pendingRestart`), or an alert rules version with an
 * aggregation window longer than the window store keeps (alert-rule-versions.ts
 * `rulesPendingRestart`). Each instance reads the versions in force from the config topic's global
 * table, builds the topology of their detectors and rules, and swaps it in
 * (`StreamsRuntime.replaceTopology`). The REST API, the dispatcher and their consumers go on.
 *
 * - Detectors whose shape is unchanged keep their stores, named by `detectorStateName`, so their
 *   state carries over; a changed one runs on stores of a new name and starts fresh.
 * - Each build is tagged with a version that grows with either (the detectors' version plus the
 *   rules'), and the group's leader gives tasks only to
 *   the members on the newest one (runtime/assignor.ts `membersOnTarget`): for the few seconds in
 *   which the instances switch one after the other, a task is idle rather than run under two
 *   topologies.
 * - The check runs at start too: an instance started from an older detectors file catches up with
 *   the version in force before it takes any task.
 * - A version that does not parse (written past the API) changes nothing, as for the live settings.
 * - A failed rebuild fails the instance (it stops, as a failed start does), rather than running a
 *   topology other than the group's.
 */
import type { Logger } from 'pino'
import type { Topology } from '../../topology/index.js'
import { StoreNotQueryableError, type StreamsRuntime } from '../../runtime/streams-runtime.js'
import { ALERT_RULE_VERSION_KEYS, parsedRulesVersion, rulesPendingRestart } from './alerting/alert-rule-versions.js'
import type { AlertRulesConfig } from './alerting/alert-rules-config.js'
import type { RunningRules } from './alerting/running-rules.js'
import { CURRENT_KEY, checkDefinitions, pendingRestart, readVersion } from './detector-versions.js'
import type { DetectorsConfig } from './detectors-config.js'
import { DETECTOR_CONFIG_STORE } from './live-detector-settings.js'
import type { RunningDetectors } from './running-detectors.js'

/** How often the version in force is looked at: a global table read, in memory. */
export const REBUILD_CHECK_INTERVAL_MS = 1000

export interface TopologyRebuildOptions {
  readonly runtime: StreamsRuntime
  readonly running: RunningDetectors
  readonly rules: RunningRules
  /** The topology of these detectors and rules, tagged with `version` (`Topology.versioned`). */
  readonly build: (detectors: DetectorsConfig, rules: AlertRulesConfig, version: number) => Topology
  readonly logger: Logger
  readonly intervalMs?: number
}

export class TopologyRebuild {
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> = Promise.resolve()
  /** The `current` records last looked at: the global store hands out the same object until a row changes. */
  private seen: unknown = undefined
  private seenRules: unknown = undefined
  private closed = false

  constructor(private readonly options: TopologyRebuildOptions) {}

  /** Whether this runtime can rebuild (Kafka); without, structural versions wait for a restart. */
  get supported(): boolean {
    return this.options.runtime.replaceTopology !== undefined
  }

  /** Checks now (an instance started from an older file catches up), then every interval. */
  start(): Promise<void> {
    if (!this.supported) return Promise.resolve()
    this.timer = setInterval(() => void this.check(), this.options.intervalMs ?? REBUILD_CHECK_INTERVAL_MS)
    this.timer.unref()
    return this.check()
  }

  /** One look at the version in force; rebuilds when the running topology cannot take it. Never throws. */
  check(): Promise<void> {
    this.checking = this.checking
      .then(() => this.checkOnce())
      .catch((err: unknown) => this.options.logger.error({ err }, 'checking the detector version in force failed'))
    return this.checking
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    await this.checking
  }

  private async checkOnce(): Promise<void> {
    const { runtime, running, rules, logger } = this.options
    if (this.closed || runtime.replaceTopology === undefined) return
    let current: unknown
    let currentRules: unknown
    try {
      const table = runtime.keyValueStore<string, unknown>(DETECTOR_CONFIG_STORE)
      current = await table.get(CURRENT_KEY)
      currentRules = await table.get(ALERT_RULE_VERSION_KEYS.prefix + CURRENT_KEY)
    } catch (err) {
      if (err instanceof StoreNotQueryableError) return
      throw err
    }
    if (current === this.seen && currentRules === this.seenRules) return
    this.seen = current
    this.seenRules = currentRules
    const detectors = this.detectorsToBuild(current)
    const nextRules = this.rulesToBuild(currentRules)
    if (detectors === null && nextRules === null) return
    const detectorsVersion = detectors?.version ?? running.version
    const rulesConfig = nextRules?.config ?? rules.config
    const rulesVersion = nextRules?.version ?? rules.version
    const version = detectorsVersion + rulesVersion
    logger.info(
      { version, detectors_version: detectorsVersion, rules_version: rulesVersion, changes: { ...detectors?.changes, ...nextRules?.changes } },
      'a version in force changes the topology: rebuilding it (what changed in shape starts fresh, the rest keeps its state)',
    )
    const started = Date.now()
    // The config objects, not the live holders: the build must not change under a later replace().
    await runtime.replaceTopology(
      this.options.build(
        detectors?.config ?? { source: running.source, detectors: running.detectors, ...(running.definitions ? { definitions: running.definitions } : {}) },
        rulesConfig,
        version,
      ),
    )
    if (detectors) running.replace(detectors.config, detectors.version)
    if (nextRules) rules.replace(nextRules.config, nextRules.version)
    logger.info({ version, ms: Date.now() - started }, 'topology rebuilt on the versions in force')
  }

  /** The detectors to rebuild with, when the version in force needs another topology; else null. */
  private detectorsToBuild(current: unknown): { config: DetectorsConfig; version: number; changes: Record<string, string[]> } | null {
    const { running, logger } = this.options
    const version = readVersion(current)
    if (version === null || version.version === running.version) return null
    let next: DetectorsConfig
    try {
      next = checkDefinitions(version.definitions, version.version)
    } catch {
      // live-detector-settings.ts ignores it too: the running detectors stay as they are.
      logger.warn({ version: version.version }, 'the detector version in force does not parse: the running topology stays')
      return null
    }
    const changes = pendingRestart(running, next)
    return Object.keys(changes).length === 0 ? null : { config: next, version: version.version, changes }
  }

  /** The rules to rebuild with, when the rules version in force needs another topology; else null. */
  private rulesToBuild(current: unknown): { config: AlertRulesConfig; version: number; changes: Record<string, string[]> } | null {
    const { rules } = this.options
    const parsed = parsedRulesVersion(current, rules.config.knownDimensions)
    if (parsed === null || parsed.version === rules.version) return null
    const changes = rulesPendingRestart(rules.started, parsed.config)
    return Object.keys(changes).length === 0
      ? null
      : { config: parsed.config, version: parsed.version, changes: Object.fromEntries(Object.entries(changes).map(([k, v]) => [`rule ${k}`, v])) }
  }
}
