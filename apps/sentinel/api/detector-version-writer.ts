/**
 * The detectors as a versioned configuration (config-version-writer.ts): a version is checked as the
 * detectors file is (detectors-config.ts), and its answer says per changed field whether it applies
 * `live`, `live-fresh` (a topology rebuild; the detector starts fresh) or is `restart-required` on
 * this instance (../detector-versions.ts).
 */
import type { FastifyBaseLogger } from 'fastify'
import { type DetectorVersion, DETECTOR_VERSION_KEYS, appliedOf, checkDefinitions, fileVersion, pendingRestart, versionChanges } from '../detector-versions.js'
import { type DetectorsConfig, DetectorsConfigError } from '../detectors-config.js'
import type { ApiContext } from './api-context.js'
import { ConfigVersionWriter, type VersionedConfig } from './config-version-writer.js'
import { definitionRefused, describeDetector } from './detector-routes.js'

export type { StoredState, StoredVersion } from './config-version-writer.js'

export type WriterContext = Pick<ApiContext, 'runtime' | 'detectors' | 'now' | 'startedAt' | 'checkDetectorActions'>

/** Parses a stored version's definitions; null when they do not parse (written past the API). */
export function parsedDefinitions(version: DetectorVersion): DetectorsConfig | null {
  try {
    return checkDefinitions(version.definitions, version.version)
  } catch {
    return null
  }
}

/** The detectors' kind of versioned configuration, against what this instance runs (`ctx.detectors`: its file at start, then the versions it rebuilt its topology on). */
export function detectorVersioning(ctx: Pick<WriterContext, 'runtime' | 'detectors' | 'startedAt' | 'checkDetectorActions'>): VersionedConfig<DetectorsConfig> {
  return {
    keys: DETECTOR_VERSION_KEYS,
    itemsField: 'detectors',
    idField: 'id',
    listPath: '/api/v1/detectors/versions',
    started: fileVersion(ctx.detectors, ctx.startedAt),
    check({ definitions, version }) {
      try {
        const parsed = checkDefinitions(definitions, version)
        // Receiver names are another file's: refused here as at start, naming the field and the known names.
        const issues = ctx.checkDetectorActions?.(parsed.detectors) ?? []
        if (issues.length > 0) throw new DetectorsConfigError(`detectors version ${version}`, issues)
        return parsed
      } catch (err) {
        if (err instanceof DetectorsConfigError) throw definitionRefused(err)
        throw err
      }
    },
    outcome(current, next, parsed) {
      // The version replaced, as the running detectors had it (one that does not parse: the start-up file).
      const previous = parsedDefinitions(current) ?? ctx.detectors
      // On Kafka every instance rebuilds its topology on such a version (topology-rebuild.ts).
      const rebuilds = ctx.runtime.replaceTopology !== undefined
      const changes = versionChanges(ctx.detectors, previous, parsed, rebuilds ? 'live-fresh' : 'restart-required')
      const pending = pendingRestart(ctx.detectors, parsed)
      const detector = next.subject === null ? null : parsed.detectors.find((d) => d.id === next.subject)
      return {
        detector: detector ? describeDetector(detector) : null,
        applied: appliedOf(changes),
        changes,
        applied_live: rebuilds || Object.keys(pending).length === 0,
        pending_restart: rebuilds ? {} : pending,
        starts_fresh: rebuilds ? pending : {},
      }
    },
  }
}

export class DetectorVersionWriter extends ConfigVersionWriter<DetectorsConfig> {
  constructor(ctx: WriterContext, topic: string, log: FastifyBaseLogger) {
    super(detectorVersioning(ctx), ctx, topic, log)
  }
}
