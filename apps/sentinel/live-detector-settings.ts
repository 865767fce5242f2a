/**
 * The part of a detector version that the running detectors apply live, on every instance: the
 * version in force (`current` in the detector config topic, read as a global table, so each
 * instance holds all of it) decides, per anomaly a detector emits, whether the detector still runs
 * (deleted or `enabled: false`: the anomaly is dropped, the operator's state is kept for when it
 * comes back) and its severity floor. These act after the operator, so they never touch its state.
 *
 * Bad input never stops detection: a `current` record that is not a valid version, or whose
 * definitions do not parse (the topic is writable by others than the API), leaves every detector
 * as its start-up definition said.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { Serde } from '../../schemas/serde.js'
import { CURRENT_KEY, checkDefinitions, readVersion } from './detector-versions.js'
import type { DetectorConfig } from './detectors-config.js'
import { severityFloor, withSeverityFloor } from './severity-floor.js'

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

/** Parsed definitions of the version in force, by detector id; parsed once per version. */
export class LiveDetectorSettings {
  private parsedVersion: number | null = null
  private byId: ReadonlyMap<string, DetectorConfig> | null = null

  /** The live definition of `id` under `current`: undefined to keep the start-up one, null when it is gone. */
  definition(current: unknown, id: string): DetectorConfig | null | undefined {
    const version = readVersion(current)
    if (version === null) return undefined
    if (this.parsedVersion !== version.version) {
      this.parsedVersion = version.version
      try {
        this.byId = new Map(checkDefinitions(version.definitions, version.version).detectors.map((d) => [d.id, d]))
      } catch {
        this.byId = null
      }
    }
    if (this.byId === null) return undefined
    return this.byId.get(id) ?? null
  }

  /** The anomaly as the version in force has it, or null when the detector no longer runs. */
  gate(started: DetectorConfig, anomaly: AnomalyEvent, current: unknown): AnomalyEvent | null {
    const live = this.definition(current, started.id)
    const detector = live === undefined ? started : live
    if (detector === null || !detector.enabled) return null
    const floor = severityFloor(detector)
    return floor === null ? anomaly : withSeverityFloor(anomaly, floor)
  }
}

export { CURRENT_KEY }
