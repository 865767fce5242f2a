/**
 * Writes detector versions to the detector config topic: the one path for every change, from the
 * API's routes (detector-version-routes.ts) and from the watched detectors file
 * (../detectors-file-watch.ts) alike.
 *
 * Each change reads the version in force from the global table every instance holds, checks the
 * next whole list as the detectors file is checked (a bad list: 422 naming each field and its fix;
 * nothing is written, the version in force stays), then writes `v<N>` and `current`. It answers
 * once this instance's table has the new `current`; if another writer's version took that number
 * first, the answer is 409 and the caller retries on the new state.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { StoreNotQueryableError } from '../../../runtime/streams-runtime.js'
import {
  type DetectorVersion,
  CURRENT_KEY,
  type VersionOp,
  appliedOf,
  checkDefinitions,
  fileVersion,
  pendingRestart,
  readVersion,
  versionChanges,
  versionKey,
} from '../detector-versions.js'
import { type DetectorsConfig, DetectorsConfigError } from '../detectors-config.js'
import { DETECTOR_CONFIG_STORE } from '../live-detector-settings.js'
import type { ApiContext } from './api-context.js'
import { definitionRefused, describeDetector } from './detector-routes.js'
import { ApiError, unavailable } from './errors.js'
import { sendJson } from './topic-write.js'

/** How long a change waits to see its own version in force before answering 503. */
const READ_BACK_TIMEOUT_MS = 10_000

export type StoredVersion = DetectorVersion & { readonly write_id?: string }

export interface StoredState {
  /** Every version, 0 (this instance's file) included, by number. */
  readonly versions: ReadonlyMap<number, StoredVersion>
  readonly current: StoredVersion
  /** `current` as stored (what the running detectors read), null when there is none yet. */
  readonly currentRecord: unknown
}

export const versionSummary = (v: DetectorVersion) => ({
  version: v.version,
  created_at: v.created_at,
  op: v.op,
  detector_id: v.detector_id,
  from_version: v.from_version,
  detectors: v.definitions.map((d) => String(d.id)),
})

export type WriterContext = Pick<ApiContext, 'runtime' | 'detectors' | 'now' | 'startedAt' | 'checkDetectorActions'>

/** Parses a stored version's definitions; null when they do not parse (written past the API). */
export function parsedDefinitions(version: DetectorVersion): DetectorsConfig | null {
  try {
    return checkDefinitions(version.definitions, version.version)
  } catch {
    return null
  }
}

export class DetectorVersionWriter {
  constructor(
    private readonly ctx: WriterContext,
    private readonly topic: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The versions this instance's global table holds, and the one in force. */
  async state(): Promise<StoredState> {
    const versions = new Map<number, StoredVersion>([[0, fileVersion(this.ctx.detectors, this.ctx.startedAt)]])
    let current: StoredVersion | null = null
    let currentRecord: unknown = null
    try {
      for await (const [key, value] of this.ctx.runtime.keyValueStore<string, unknown>(DETECTOR_CONFIG_STORE).all()) {
        if (key === CURRENT_KEY) currentRecord = value
        const version = readVersion(value)
        if (version === null) continue
        const writeId = (value as { write_id?: unknown }).write_id
        const stored = { ...version, ...(typeof writeId === 'string' ? { write_id: writeId } : {}) }
        if (key === CURRENT_KEY) current = stored
        else if (version.version > 0) versions.set(version.version, stored)
      }
    } catch (err) {
      if (err instanceof StoreNotQueryableError) throw unavailable(`the detector versions are not readable on this instance yet (${err.message}); retry`)
      throw err
    }
    return { versions, current: current ?? versions.get(0)!, currentRecord }
  }

  /**
   * Checks and writes the next version, then waits until this instance holds it in force. The answer
   * says per changed field whether it applies `live` or is `restart-required` on this instance.
   */
  async commit(
    state: StoredState,
    op: VersionOp | 'file',
    detectorId: string | null,
    definitions: readonly Record<string, unknown>[],
    fromVersion: number | null,
  ): Promise<Record<string, unknown>> {
    const number = Math.max(...state.versions.keys(), state.current.version) + 1
    let parsed: DetectorsConfig
    try {
      parsed = checkDefinitions(definitions, number)
      // Receiver names are another file's: refused here as at start, naming the field and the known names.
      const issues = this.ctx.checkDetectorActions?.(parsed.detectors) ?? []
      if (issues.length > 0) throw new DetectorsConfigError(`detectors version ${number}`, issues)
    } catch (err) {
      if (err instanceof DetectorsConfigError) throw definitionRefused(err)
      throw err
    }
    const writeId = randomUUID()
    const next = {
      version: number,
      created_at: new Date(this.ctx.now()).toISOString(),
      op,
      detector_id: detectorId,
      from_version: fromVersion,
      definitions,
      write_id: writeId,
    }
    // The version first: `current` never points at a version that is not stored.
    await sendJson(this.ctx.runtime, this.log, this.topic, versionKey(number), next)
    await sendJson(this.ctx.runtime, this.log, this.topic, CURRENT_KEY, next)
    const deadline = Date.now() + READ_BACK_TIMEOUT_MS
    for (;;) {
      const now = await this.state()
      if (now.current.version >= number) {
        if (now.current.write_id !== writeId)
          throw new ApiError(
            409,
            'version_conflict',
            `another change became version ${now.current.version} at the same time; read the detectors again and retry`,
          )
        break
      }
      if (Date.now() > deadline)
        throw unavailable(`version ${number} was written but this instance does not hold it yet; GET /api/v1/detectors/versions shows when it does`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // The version replaced, as the running detectors had it (one that does not parse: the start-up file).
    const previous = parsedDefinitions(state.current) ?? this.ctx.detectors
    const changes = versionChanges(this.ctx.detectors, previous, parsed)
    const applied = appliedOf(changes)
    this.log.info({ version: number, op, detector_id: detectorId, from_version: fromVersion, applied }, 'detector version written')
    const pending = pendingRestart(this.ctx.detectors, parsed)
    const detector = detectorId === null ? null : parsed.detectors.find((d) => d.id === detectorId)
    return {
      ...versionSummary(next),
      detector: detector ? describeDetector(detector) : null,
      applied,
      changes,
      applied_live: Object.keys(pending).length === 0,
      pending_restart: pending,
    }
  }
}
