/**
 * Detector definitions managed over the API (seed 001: /api/v1/detectors POST, PUT /:id, DELETE
 * /:id; /api/v1/config/versions and /rollback/:version), as versions in the detector config topic
 * (../detector-versions.ts has the model and what applies live).
 *
 * Each change reads the version in force from the global table every instance holds, builds the
 * next whole list, checks it as the detectors file is checked (a bad list: 422 naming each field
 * and its fix; nothing is written, the version in force stays), then writes `v<N>` and `current`.
 * It answers once this instance's table has the new `current`; if another writer's version took
 * that number first, the answer is 409 and the caller retries on the new state.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import { StoreNotQueryableError } from '../../../runtime/streams-runtime.js'
import {
  type DetectorVersion,
  CURRENT_KEY,
  type VersionOp,
  checkDefinitions,
  fileVersion,
  pendingRestart,
  readVersion,
  versionFile,
  versionKey,
} from '../detector-versions.js'
import { type DetectorsConfig, DetectorsConfigError } from '../detectors-config.js'
import { DETECTOR_CONFIG_STORE } from '../live-detector-settings.js'
import type { ApiContext, RoutesOptions } from './api-context.js'
import { definitionRefused, describeDetector } from './detector-routes.js'
import { ApiError, unavailable } from './errors.js'
import { errors } from './schemas.js'
import { sendJson } from './topic-write.js'

/** How long a change waits to see its own version in force before answering 503. */
const READ_BACK_TIMEOUT_MS = 10_000

interface StoredState {
  /** Every version, 0 (this instance's file) included, by number. */
  readonly versions: ReadonlyMap<number, DetectorVersion & { readonly write_id?: string }>
  readonly current: DetectorVersion & { readonly write_id?: string }
}

async function storedState(ctx: ApiContext): Promise<StoredState> {
  const versions = new Map<number, DetectorVersion & { write_id?: string }>([[0, fileVersion(ctx.detectors, ctx.startedAt)]])
  let current: (DetectorVersion & { write_id?: string }) | null = null
  try {
    for await (const [key, value] of ctx.runtime.keyValueStore<string, unknown>(DETECTOR_CONFIG_STORE).all()) {
      const version = readVersion(value)
      if (version === null) continue
      const stored = {
        ...version,
        ...(typeof (value as { write_id?: unknown }).write_id === 'string' ? { write_id: (value as { write_id: string }).write_id } : {}),
      }
      if (key === CURRENT_KEY) current = stored
      else if (version.version > 0) versions.set(version.version, stored)
    }
  } catch (err) {
    if (err instanceof StoreNotQueryableError) throw unavailable(`the detector versions are not readable on this instance yet (${err.message}); retry`)
    throw err
  }
  return { versions, current: current ?? versions.get(0)! }
}

const summary = (v: DetectorVersion) => ({
  version: v.version,
  created_at: v.created_at,
  op: v.op,
  detector_id: v.detector_id,
  from_version: v.from_version,
  detectors: v.definitions.map((d) => String(d.id)),
})

const versionSummary = {
  type: 'object',
  properties: {
    version: { type: 'integer' },
    created_at: { type: 'string' },
    op: { type: 'string', enum: ['file', 'create', 'update', 'delete', 'rollback'] },
    detector_id: { type: ['string', 'null'] },
    from_version: { type: ['integer', 'null'] },
    detectors: { type: 'array', items: { type: 'string' } },
  },
} as const

const changeResponse = {
  type: 'object',
  properties: {
    ...versionSummary.properties,
    detector: { type: ['object', 'null'], additionalProperties: true },
    applied_live: { type: 'boolean', description: 'true: every running instance applies this version as it is (enabled, severity, actions, deletions)' },
    pending_restart: {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'string' } },
      description:
        'per detector, the fields this instance runs differently until restarted with this version as its detectors file (GET /detectors/versions/:version/file); new detectors say (new detector)',
    },
  },
} as const

const definitionBody = {
  type: 'object',
  additionalProperties: true,
  description: 'one detector as in the detectors file (id, type, strategy, ..., `config:` nesting allowed)',
} as const
const versionParams = { type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 0 } } } as const
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const

export const detectorVersionRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  const topic = ctx.detectorConfigTopic
  if (topic === null) return

  /** Checks and writes the next version, then waits until this instance holds it in force. */
  async function commit(
    state: StoredState,
    op: VersionOp,
    detectorId: string | null,
    definitions: readonly Record<string, unknown>[],
    fromVersion: number | null,
  ): Promise<Record<string, unknown>> {
    const number = Math.max(...state.versions.keys(), state.current.version) + 1
    let parsed: DetectorsConfig
    try {
      parsed = checkDefinitions(definitions, number)
    } catch (err) {
      if (err instanceof DetectorsConfigError) throw definitionRefused(err)
      throw err
    }
    const writeId = randomUUID()
    const next = {
      version: number,
      created_at: new Date(ctx.now()).toISOString(),
      op,
      detector_id: detectorId,
      from_version: fromVersion,
      definitions,
      write_id: writeId,
    }
    // The version first: `current` never points at a version that is not stored.
    await sendJson(ctx.runtime, app.log, topic!, versionKey(number), next)
    await sendJson(ctx.runtime, app.log, topic!, CURRENT_KEY, next)
    const deadline = Date.now() + READ_BACK_TIMEOUT_MS
    for (;;) {
      const now = await storedState(ctx)
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
    app.log.info({ version: number, op, detector_id: detectorId, from_version: fromVersion }, 'detector version written')
    const pending = pendingRestart(ctx.detectors, parsed)
    const detector = detectorId === null ? null : parsed.detectors.find((d) => d.id === detectorId)
    return {
      ...summary(next),
      detector: detector ? describeDetector(detector) : null,
      applied_live: Object.keys(pending).length === 0,
      pending_restart: pending,
    }
  }

  const listVersions = async (): Promise<Record<string, unknown>> => {
    const state = await storedState(ctx)
    let pending: Record<string, string[]> = {}
    try {
      pending = pendingRestart(ctx.detectors, checkDefinitions(state.current.definitions, state.current.version))
    } catch {
      // A version written past the API (straight to the topic) that does not parse: the running detectors keep their definitions.
    }
    const host = ctx.runtime.hostInfo
    return {
      current_version: state.current.version,
      instance: host === null ? null : `${host.host}:${host.port}`,
      pending_restart: pending,
      versions: [...state.versions.values()].sort((a, b) => a.version - b.version).map(summary),
    }
  }
  const versionsSchema = {
    summary: 'The detector definition versions, and the one in force',
    tags: ['detectors'],
    response: {
      200: {
        type: 'object',
        properties: {
          current_version: { type: 'integer' },
          instance: { type: ['string', 'null'] },
          pending_restart: changeResponse.properties.pending_restart,
          versions: { type: 'array', items: versionSummary },
        },
      },
      ...errors(401, 429, 503),
    },
  }
  app.get('/detectors/versions', { schema: versionsSchema }, listVersions)
  // Seed 001's spelling under /config (the detectors are the configuration that is versioned here).
  app.get('/config/versions', { schema: { ...versionsSchema, tags: ['configuration'] } }, listVersions)

  app.get<{ Params: { version: number } }>(
    '/detectors/versions/:version/file',
    {
      schema: {
        summary: 'A version as a detectors file (YAML), to start instances from',
        tags: ['detectors'],
        params: versionParams,
        response: { ...errors(401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const version = (await storedState(ctx)).versions.get(request.params.version)
      if (version === undefined)
        throw new ApiError(404, 'not_found', `no detector version ${request.params.version}; GET /api/v1/detectors/versions lists them`)
      return reply.type('application/yaml').send(versionFile(version))
    },
  )

  app.post<{ Body: Record<string, unknown> }>(
    '/detectors',
    {
      schema: {
        summary: 'Create a detector (a new version)',
        tags: ['detectors'],
        body: definitionBody,
        response: { 201: changeResponse, ...errors(400, 401, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const state = await storedState(ctx)
      const id = request.body.id
      if (typeof id !== 'string' || id.trim() === '')
        throw new ApiError(400, 'id_required', 'the definition needs an id: a non-empty string, stable across versions')
      if (state.current.definitions.some((d) => d.id === id))
        throw new ApiError(409, 'detector_exists', `detector '${id}' exists; PUT /api/v1/detectors/${id} changes it`)
      return reply.code(201).send(await commit(state, 'create', id, [...state.current.definitions, request.body], null))
    },
  )

  app.put<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/detectors/:id',
    {
      schema: {
        summary: 'Replace a detector definition (a new version)',
        tags: ['detectors'],
        params: idParams,
        body: definitionBody,
        response: { 200: changeResponse, ...errors(400, 401, 404, 409, 422, 429, 503) },
      },
    },
    async (request) => {
      const { id } = request.params
      if (request.body.id !== undefined && request.body.id !== id)
        throw new ApiError(
          400,
          'id_mismatch',
          `the definition's id '${String(request.body.id)}' is not the path's '${id}'; an id is stable (it is part of anomaly ids and store names): create a new detector instead`,
        )
      const state = await storedState(ctx)
      if (!state.current.definitions.some((d) => d.id === id))
        throw new ApiError(404, 'not_found', `no detector '${id}' in version ${state.current.version}; POST /api/v1/detectors creates one`)
      return commit(
        state,
        'update',
        id,
        state.current.definitions.map((d) => (d.id === id ? { ...request.body, id } : d)),
        null,
      )
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/detectors/:id',
    {
      schema: {
        summary: 'Delete a detector (a new version; its anomalies stop on every instance)',
        tags: ['detectors'],
        params: idParams,
        response: { 200: changeResponse, ...errors(401, 404, 409, 422, 429, 503) },
      },
    },
    async (request) => {
      const { id } = request.params
      const state = await storedState(ctx)
      if (!state.current.definitions.some((d) => d.id === id)) throw new ApiError(404, 'not_found', `no detector '${id}' in version ${state.current.version}`)
      return commit(
        state,
        'delete',
        id,
        state.current.definitions.filter((d) => d.id !== id),
        null,
      )
    },
  )

  const rollback = async (version: number): Promise<Record<string, unknown>> => {
    const state = await storedState(ctx)
    const target = state.versions.get(version)
    if (target === undefined) throw new ApiError(404, 'not_found', `no detector version ${version}; GET /api/v1/detectors/versions lists them`)
    return commit(state, 'rollback', null, target.definitions, version)
  }
  const rollbackSchema = {
    summary: 'Restore a version (as a new version copying it)',
    tags: ['detectors'],
    params: versionParams,
    response: { 200: changeResponse, ...errors(401, 404, 409, 422, 429, 503) },
  }
  app.post<{ Params: { version: number } }>('/detectors/rollback/:version', { schema: rollbackSchema }, async (request) => rollback(request.params.version))
  app.post<{ Params: { version: number } }>('/config/rollback/:version', { schema: { ...rollbackSchema, tags: ['configuration'] } }, async (request) =>
    rollback(request.params.version),
  )
}
