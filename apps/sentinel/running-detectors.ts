/**
 * The detectors the running topology was built from: the detectors file at start, then each
 * version that changed the topology (topology-rebuild.ts). What a new version changes is judged
 * against these (detector-versions.ts: `pendingRestart`), and the API reads detectors' stores by
 * the names these give them (`detectorStateName`).
 */
import type { DetectorConfig, DetectorsConfig } from './detectors-config.js'

export class RunningDetectors implements DetectorsConfig {
  private config: DetectorsConfig
  private builtFrom: number

  /** `config`: the detectors the topology was first built from (configuration version 0, the file). */
  constructor(config: DetectorsConfig, version = 0) {
    this.config = config
    this.builtFrom = version
  }

  get source(): string {
    return this.config.source
  }

  get detectors(): readonly DetectorConfig[] {
    return this.config.detectors
  }

  get definitions(): readonly unknown[] | undefined {
    return this.config.definitions
  }

  /** The configuration version the running topology was built from (0: the detectors file). */
  get version(): number {
    return this.builtFrom
  }

  /** The topology now runs `config`, built from configuration version `version`. */
  replace(config: DetectorsConfig, version: number): void {
    this.config = config
    this.builtFrom = version
  }
}
