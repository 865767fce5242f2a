/**
 * Detector definitions managed over the API (seed 001: /api/v1/detectors POST, PUT /:id, DELETE
 * /:id; /api/v1/config/versions and /rollback/:version), as versions in the detector config topic
 * (../detector-versions.ts has the model and what applies live), written by detector-version-writer.ts,
 * the path the watched detectors file takes too.
 */
import type { FastifyPluginAsync } from 'fastify'
import { pendingRestart, versionFile } from '../detector-versions.js'
import { appliedVersion } from '../live-detector-settings.js'
import type { RoutesOptions } from './api-context.js'
import { DetectorVersionWriter, parsedDefinitions, versionSummary as summary } from './detector-version-writer.js'
import { ApiError } from './errors.js'
import { errors } from './schemas.js'

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
    applied: {
      type: 'string',
      enum: ['live', 'restart-required'],
      description:
        'live: every change below applies on running instances at their next record; restart-required: at least one waits for instances restarted with this version as their detectors file',
    },
    changes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          detector_id: { type: 'string' },
          field: { type: 'string', description: 'a definition field, or (created) / (deleted)' },
          applied: { type: 'string', enum: ['live', 'restart-required'] },
        },
      },
    },
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

  const writer = new DetectorVersionWriter(ctx, topic, app.log)
  const storedState = () => writer.state()
  const commit = writer.commit.bind(writer)

  const listVersions = async (): Promise<Record<string, unknown>> => {
    const state = await storedState()
    // A version written past the API (straight to the topic) that does not parse: the running detectors keep their start-up definitions.
    const parsed = parsedDefinitions(state.current)
    const pending = parsed === null ? {} : pendingRestart(ctx.detectors, parsed)
    const host = ctx.runtime.hostInfo
    return {
      current_version: state.current.version,
      applied_version: appliedVersion(state.currentRecord),
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
          applied_version: {
            type: 'integer',
            description:
              "the version whose live settings this instance's detectors apply (from their next record): current_version, or 0 (the detectors file it started from) when the version in force does not parse",
          },
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
      const version = (await storedState()).versions.get(request.params.version)
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
      const state = await storedState()
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
      const state = await storedState()
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
      const state = await storedState()
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
    const state = await storedState()
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
