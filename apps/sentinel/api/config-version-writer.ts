/**
 * Writes versions of a live configuration (../config-versions.ts) to the config topic: the one path
 * for every change of it, from the API's routes and from its watched file alike. The detectors
 * (detector-version-writer.ts) and the alert rules (alert-rule-version-writer.ts) are two kinds of
 * it, each saying how a version is checked and what a change means for the running instances.
 *
 * Each change reads the version in force from the global table every instance holds, checks the
 * next whole version as its file is checked (a bad one: 422 naming each field and its fix; nothing
 * is written, the version in force stays), then writes `<prefix>v<N>` and `<prefix>current`. It
 * answers once this instance's table has the new `current`; if another writer's version took that
 * number first, the answer is 409 and the caller retries on the new state.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { StoreNotQueryableError } from '../../../runtime/streams-runtime.js'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import {
  type Applied,
  type ConfigVersion,
  type VersionKeys,
  type VersionOp,
  CURRENT_KEY,
  isVersionKey,
  readVersion,
  storedRecord,
  versionKey,
} from '../config-versions.js'
import { DETECTOR_CONFIG_STORE } from '../live-detector-settings.js'
import { ApiError, unavailable } from './errors.js'
import { sendJson } from './topic-write.js'

/** How long a change waits to see its own version in force before answering 503. */
const READ_BACK_TIMEOUT_MS = 10_000
const READ_BACK_POLL_MS = 100

export type StoredVersion = ConfigVersion & { readonly write_id?: string }

export interface StoredState {
  /** Every version, 0 (this instance's file) included, by number. */
  readonly versions: ReadonlyMap<number, StoredVersion>
  readonly current: StoredVersion
  /** `current` as stored (what the running instance reads), null when there is none yet. */
  readonly currentRecord: unknown
}

/** One configuration kept in versions: what differs between the detectors and the alert rules. */
export interface VersionedConfig<Parsed> {
  readonly keys: VersionKeys
  /** What its summaries list the item ids under (`detectors`, `rules`). */
  readonly itemsField: string
  /** Its item's id field in a definition (`id`, `alert_id`). */
  readonly idField: string
  /** Where its versions are listed, for messages. */
  readonly listPath: string
  /** Version 0: the file this instance started from. */
  readonly started: ConfigVersion
  /** Checks a version as its file would be checked; throws an ApiError (422) naming each field and its fix. */
  check(version: Pick<ConfigVersion, 'definitions' | 'sections' | 'version'>): Parsed
  /** What `next` changes against the version in force before it, as this instance runs it: at least `applied`. */
  outcome(previous: ConfigVersion, next: ConfigVersion, parsed: Parsed): Record<string, unknown> & { readonly applied: Applied }
}

export interface WriterClock {
  readonly runtime: StreamsRuntime
  readonly now: () => number
}

export class ConfigVersionWriter<Parsed> {
  constructor(
    readonly kind: VersionedConfig<Parsed>,
    private readonly ctx: WriterClock,
    private readonly topic: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** A version as the API lists it. */
  summary(v: ConfigVersion): Record<string, unknown> {
    const { keys, itemsField, idField } = this.kind
    return {
      version: v.version,
      created_at: v.created_at,
      op: v.op,
      [keys.subjectField]: v.subject,
      from_version: v.from_version,
      [itemsField]: v.definitions.map((d) => String(d[idField])),
    }
  }

  /** This instance as other instances reach it (host:port), null when it has no application server. */
  runtimeHost(): string | null {
    const host = this.ctx.runtime.hostInfo
    return host === null ? null : `${host.host}:${host.port}`
  }

  /**
   * The versions this instance's global table holds, and the one in force. While the instance is
   * rebalancing (a topology rebuild closes and reloads its global tables for a few seconds, and a
   * change's own version starts one) it waits for the table, up to READ_BACK_TIMEOUT_MS; otherwise,
   * or after that, a table it cannot read is a 503.
   */
  async state(): Promise<StoredState> {
    const deadline = Date.now() + READ_BACK_TIMEOUT_MS
    for (;;) {
      try {
        return await this.readState()
      } catch (err) {
        if (!(err instanceof StoreNotQueryableError)) throw err
        if (this.ctx.runtime.state !== 'rebalancing' || Date.now() > deadline)
          throw unavailable(`the configuration versions are not readable on this instance yet (${err.message}); retry`)
      }
      await new Promise((resolve) => setTimeout(resolve, READ_BACK_POLL_MS))
    }
  }

  private async readState(): Promise<StoredState> {
    const { prefix, subjectField } = this.kind.keys
    const versions = new Map<number, StoredVersion>([[0, this.kind.started]])
    let current: StoredVersion | null = null
    let currentRecord: unknown = null
    for await (const [key, value] of this.ctx.runtime.keyValueStore<string, unknown>(DETECTOR_CONFIG_STORE).all()) {
      // The other configuration's keys share the table.
      if (!isVersionKey(key, prefix)) continue
      const isCurrent = key === prefix + CURRENT_KEY
      if (isCurrent) currentRecord = value
      const version = readVersion(value, subjectField)
      if (version === null) continue
      const writeId = (value as { write_id?: unknown }).write_id
      const stored = { ...version, ...(typeof writeId === 'string' ? { write_id: writeId } : {}) }
      if (isCurrent) current = stored
      else if (version.version > 0) versions.set(version.version, stored)
    }
    return { versions, current: current ?? versions.get(0)!, currentRecord }
  }

  /** The number the next version takes. */
  nextNumber = (state: StoredState): number => Math.max(...state.versions.keys(), state.current.version) + 1

  /**
   * Checks and writes the next version, then waits until this instance holds it in force. The answer
   * is the version's summary and the kind's outcome (what applies `live`, what is `restart-required`).
   */
  async commit(
    state: StoredState,
    op: VersionOp | 'file',
    subject: string | null,
    definitions: readonly Record<string, unknown>[],
    fromVersion: number | null,
    sections: Readonly<Record<string, unknown>> | null = null,
  ): Promise<Record<string, unknown>> {
    const number = this.nextNumber(state)
    const parsed = this.kind.check({ version: number, definitions, sections })
    const writeId = randomUUID()
    const next: ConfigVersion = {
      version: number,
      created_at: new Date(this.ctx.now()).toISOString(),
      op,
      subject,
      from_version: fromVersion,
      definitions,
      sections,
    }
    const record = { ...storedRecord(next, this.kind.keys.subjectField), write_id: writeId }
    const { prefix } = this.kind.keys
    // The version first: `current` never points at a version that is not stored.
    await sendJson(this.ctx.runtime, this.log, this.topic, versionKey(number, prefix), record)
    await sendJson(this.ctx.runtime, this.log, this.topic, prefix + CURRENT_KEY, record)
    const deadline = Date.now() + READ_BACK_TIMEOUT_MS
    for (;;) {
      const now = await this.state()
      if (now.current.version >= number) {
        if (now.current.write_id !== writeId)
          throw new ApiError(
            409,
            'version_conflict',
            `another change became version ${now.current.version} at the same time; read the versions again and retry`,
          )
        break
      }
      if (Date.now() > deadline)
        throw unavailable(`version ${number} was written but this instance does not hold it yet; GET ${this.kind.listPath} shows when it does`)
      await new Promise((resolve) => setTimeout(resolve, READ_BACK_POLL_MS))
    }
    const outcome = this.kind.outcome(state.current, next, parsed)
    this.log.info(
      { version: number, op, subject, from_version: fromVersion, applied: outcome.applied, keys: prefix || 'detectors' },
      'configuration version written',
    )
    return { ...this.summary(next), ...outcome }
  }
}
