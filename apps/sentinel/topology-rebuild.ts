/**
 * A detector version that the running topology cannot take live (a new detector, another window,
 * groupBy or strategy: detector-versions.ts `pendingRestart`) is applied by rebuilding the topology
 * in the running process, on every instance: each reads the version in force from the config
 * topic's global table, builds the topology of its detectors, and swaps it in
 * (`StreamsRuntime.replaceTopology`). The REST API, the dispatcher and their consumers go on.
 *
 * - Detectors whose shape is unchanged keep their stores, named by `detectorStateName`, so their
 *   state carries over; a changed one runs on stores of a new name and starts fresh.
 * - Each build is tagged with the version it came from, and the group's leader gives tasks only to
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
import { CURRENT_KEY, checkDefinitions, pendingRestart, readVersion } from './detector-versions.js'
import type { DetectorsConfig } from './detectors-config.js'
import { DETECTOR_CONFIG_STORE } from './live-detector-settings.js'
import type { RunningDetectors } from './running-detectors.js'

/** How often the version in force is looked at: a global table read, in memory. */
export const REBUILD_CHECK_INTERVAL_MS = 1000

export interface TopologyRebuildOptions {
  readonly runtime: StreamsRuntime
  readonly running: RunningDetectors
  /** The topology of these detectors, tagged with `version` (`Topology.versioned`). */
  readonly build: (detectors: DetectorsConfig, version: number) => Topology
  readonly logger: Logger
  readonly intervalMs?: number
}

export class TopologyRebuild {
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> = Promise.resolve()
  /** The `current` record last looked at: the global store hands out the same object until it changes. */
  private seen: unknown = undefined
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
    const { runtime, running, logger } = this.options
    if (this.closed || runtime.replaceTopology === undefined) return
    let current: unknown
    try {
      current = await runtime.keyValueStore<string, unknown>(DETECTOR_CONFIG_STORE).get(CURRENT_KEY)
    } catch (err) {
      if (err instanceof StoreNotQueryableError) return
      throw err
    }
    if (current === this.seen) return
    this.seen = current
    const version = readVersion(current)
    if (version === null || version.version === running.version) return
    let next: DetectorsConfig
    try {
      next = checkDefinitions(version.definitions, version.version)
    } catch {
      // live-detector-settings.ts logs nothing either: the running detectors stay as they are.
      logger.warn({ version: version.version }, 'the detector version in force does not parse: the running topology stays')
      return
    }
    const changes = pendingRestart(running, next)
    if (Object.keys(changes).length === 0) return
    logger.info(
      { version: version.version, from_version: running.version, changes },
      'detector version changes the topology: rebuilding it (changed detectors start fresh, the others keep their state)',
    )
    const started = Date.now()
    await runtime.replaceTopology(this.options.build(next, version.version))
    running.replace(next, version.version)
    logger.info({ version: version.version, ms: Date.now() - started }, 'topology rebuilt on the detector version in force')
  }
}
