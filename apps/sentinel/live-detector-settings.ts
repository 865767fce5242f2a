/**
 * The part of a detector version that the running detectors apply live, on every instance: the
 * version in force (`current` in the detector config topic, read as a global table, so each
 * instance holds all of it) decides
 * - per record, the live parameters of each running operator (operator-parameters.ts): `observe`
 *   is called with `current` by a join in front of each group's detectors, parses a new version once
 *   (by identity: the global store hands out the same object until the row changes) and refreshes
 *   one cell per detector, which the operator's `live` provider reads (a field read);
 * - per anomaly a detector emits, whether the detector still runs (deleted or `enabled: false`: the
 *   anomaly is dropped, the operator's state is kept for when it comes back), its severity floor and
 *   the actions it asks for (detector-actions.ts: alert receivers, a shield action through its gate).
 * Neither touches a detector's state.
 *
 * Bad input never stops detection: a `current` record that is not a valid version, or whose
 * definitions do not parse (the topic is writable by others than the API), leaves every detector
 * as its start-up definition said (applied version 0).
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { Serde } from '../../schemas/serde.js'
import { CURRENT_KEY, checkDefinitions, readVersion } from './detector-versions.js'
import type { DetectorConfig } from './detectors-config.js'
import { liveOperatorParameters } from './operator-parameters.js'
import { withDetectorActions } from './detector-actions.js'
import type { LiveProvider } from '../../operators/dsl/index.js'
import { Serdes } from '../../schemas/index.js'
import type { GlobalKTable, StreamsBuilder } from '../../topology/index.js'

export const DETECTOR_CONFIG_STORE = 'detector-config-store'

/** JSON that never throws: unreadable bytes are null (ignored), not a failed task. */
export const lenientJson: Serde<unknown> = {
  name: 'lenient-json',
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (data) => {
    try {
      return JSON.parse(data.toString('utf8')) as unknown
    } catch {
      return null
    }
  },
}

const tables = new WeakMap<StreamsBuilder, GlobalKTable<string, unknown>>()

/**
 * The config topic as a global table (store DETECTOR_CONFIG_STORE), once per topology: the detectors'
 * and the alert rules' versions share it (config-versions.ts), and a topic is one global table.
 */
export function configTable(builder: StreamsBuilder, topic: string): GlobalKTable<string, unknown> {
  let table = tables.get(builder)
  if (table === undefined) {
    table = builder.globalTable(topic, { key: Serdes.string(), value: lenientJson, name: 'detector-config', store: DETECTOR_CONFIG_STORE })
    tables.set(builder, table)
  }
  return table
}

/** A version's definitions by id, or null when `current` is no valid version (the start-up definitions apply). */
function parsedVersion(current: unknown): { version: number; byId: ReadonlyMap<string, DetectorConfig> } | null {
  const version = readVersion(current)
  if (version === null) return null
  try {
    return { version: version.version, byId: new Map(checkDefinitions(version.definitions, version.version).detectors.map((d) => [d.id, d])) }
  } catch {
    return null
  }
}

/** The version whose live settings an instance applies for this `current`: its number, or 0 (the start-up file) when it is absent or invalid. */
export function appliedVersion(current: unknown): number {
  return parsedVersion(current)?.version ?? 0
}

interface ParameterCell {
  readonly started: DetectorConfig
  params: unknown
}

/** The version in force as the running detectors apply it; one per topology (its tasks share it, as they share the global table). */
export class LiveDetectorSettings {
  private seen: unknown = undefined
  private byId: ReadonlyMap<string, DetectorConfig> | null = null
  private readonly cells = new Map<string, ParameterCell>()
  /** The version applied (0: the start-up definitions). */
  applied = 0

  /** `onApplied`: told each version applied, once (the config version gauge). */
  constructor(private readonly onApplied?: (version: number) => void) {}

  /** Takes the version in force, `current` of the global table; a no-op unless its row changed. */
  observe(current: unknown): void {
    if (current === this.seen) return
    this.seen = current
    const parsed = parsedVersion(current)
    this.byId = parsed?.byId ?? null
    for (const cell of this.cells.values()) {
      const live = this.byId?.get(cell.started.id)
      cell.params = live ? liveOperatorParameters(cell.started, live) : liveOperatorParameters(cell.started, cell.started)
    }
    const version = parsed?.version ?? 0
    if (version !== this.applied) {
      this.applied = version
      this.onApplied?.(version)
    }
  }

  /** The operator's `live` provider for a detector of the topology (its definition at start). */
  provider<P>(started: DetectorConfig): LiveProvider<P> {
    const live = this.byId?.get(started.id)
    const cell: ParameterCell = { started, params: liveOperatorParameters(started, live ?? started) }
    this.cells.set(started.id, cell)
    return () => cell.params as P
  }

  /** The anomaly as the version in force has it, or null when the detector no longer runs. */
  gate(started: DetectorConfig, anomaly: AnomalyEvent, current: unknown): AnomalyEvent | null {
    this.observe(current)
    const live = this.byId === null ? started : (this.byId.get(started.id) ?? null)
    if (live === null || !live.enabled) return null
    return withDetectorActions(live, anomaly)
  }
}

export { CURRENT_KEY }
