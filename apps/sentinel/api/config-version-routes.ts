/**
 * The routes of a versioned configuration (config-version-writer.ts), the same for the detectors
 * (detector-version-routes.ts, under /detectors) and the alert rules (alert-rule-version-routes.ts,
 * under /alert-rules): list the versions and the one this instance applies, export one as its
 * file, create / replace / delete one item (a new version each), roll back (a new version copying
 * an old one).
 */
import type { FastifyInstance } from 'fastify'
import { APPLIED_VALUES, type ConfigVersion } from '../config-versions.js'
import type { ConfigVersionWriter, StoredState } from './config-version-writer.js'
import { ApiError } from './errors.js'
import { errors } from './schemas.js'

export interface VersionRoutesOptions {
  /** e.g. `/detectors`: routes are `${base}/versions`, `${base}/:id`, `${base}/rollback/:version`. */
  readonly base: string
  readonly tag: string
  /** The item's name in messages and summaries (`detector`, `alert rule`). */
  readonly item: string
  /** Per change, what the response says beyond the version summary (the kind's outcome). */
  readonly outcomeSchema: Readonly<Record<string, unknown>>
  /** A version as its file. */
  readonly file: (version: ConfigVersion) => string
  /** The version this instance applies for the stored `current` (0 when it does not parse). */
  readonly appliedVersion: (currentRecord: unknown) => number
  /** What this instance runs differently until restarted with the version in force. */
  readonly pendingRestart: (state: StoredState) => Record<string, string[]>
  /** The version this instance's running topology was built from (detectors: topology-rebuild.ts); absent where the configuration never rebuilds it. */
  readonly topologyVersion?: () => number
}

export const pendingRestartSchema = {
  type: 'object',
  additionalProperties: { type: 'array', items: { type: 'string' } },
  description: 'per item, the fields this instance runs differently until restarted with this version as its file (GET .../versions/:version/file)',
} as const

export const appliedSchema = {
  type: 'string',
  enum: APPLIED_VALUES,
  description:
    'live: every change applies on running instances at their next record, state kept; live-fresh: applies without a restart, but at least one item starts with empty state (a detector changed in shape, on a topology every instance rebuilds; an alert rule with a new aggregation window size); restart-required: at least one change waits for instances restarted with this version as their file',
} as const

/** The schema of a change's outcome: `changes` naming each item by `subject` (its id field), and what applies live. */
export function outcomeSchema(
  subject: { readonly field: string; readonly type: readonly string[] | string; readonly description?: string },
  fieldDescription: string,
  liveDescription: string,
) {
  return {
    applied: appliedSchema,
    changes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          [subject.field]: { type: subject.type, ...(subject.description === undefined ? {} : { description: subject.description }) },
          field: { type: 'string', description: fieldDescription },
          applied: { type: 'string', enum: APPLIED_VALUES },
        },
      },
    },
    applied_live: { type: 'boolean', description: liveDescription },
    pending_restart: pendingRestartSchema,
  }
}

const versionParams = { type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 0 } } } as const
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const

/** Registers a versioned configuration's routes; returns the list and rollback handlers (for aliases such as seed 001's /config/versions). */
export function versionRoutes<P>(app: FastifyInstance, writer: ConfigVersionWriter<P>, options: VersionRoutesOptions) {
  const { keys, itemsField, idField } = writer.kind
  const { base, tag, item } = options
  const summarySchema = {
    type: 'object',
    properties: {
      version: { type: 'integer' },
      created_at: { type: 'string' },
      op: { type: 'string', enum: ['file', 'create', 'update', 'delete', 'rollback', 'config'] },
      [keys.subjectField]: { type: ['string', 'null'] },
      from_version: { type: ['integer', 'null'] },
      [itemsField]: { type: 'array', items: { type: 'string' } },
    },
  }
  const changeResponse = { type: 'object', properties: { ...summarySchema.properties, ...options.outcomeSchema } }
  const definitionBody = { type: 'object', additionalProperties: true, description: `one ${item} as in its file` } as const
  const notFound = (version: number) => new ApiError(404, 'not_found', `no ${item} version ${version}; GET /api/v1${base}/versions lists them`)

  const listVersions = async (): Promise<Record<string, unknown>> => {
    const state = await writer.state()
    const host = writer.runtimeHost()
    return {
      current_version: state.current.version,
      applied_version: options.appliedVersion(state.currentRecord),
      instance: host,
      ...(options.topologyVersion === undefined ? {} : { topology_version: options.topologyVersion() }),
      pending_restart: options.pendingRestart(state),
      versions: [...state.versions.values()].sort((a, b) => a.version - b.version).map((v) => writer.summary(v)),
    }
  }
  const versionsSchema = {
    summary: `The ${item} versions, and the one in force`,
    tags: [tag],
    response: {
      200: {
        type: 'object',
        properties: {
          current_version: { type: 'integer' },
          applied_version: {
            type: 'integer',
            description:
              'the version this instance applies (from its next record): current_version, or 0 (the file it started from) when the version in force does not parse',
          },
          instance: { type: ['string', 'null'] },
          topology_version: {
            type: 'integer',
            description:
              'the version this instance runs its topology from: the last one that changed the topology (rebuilt on every instance without a restart), 0 for its file',
          },
          pending_restart: pendingRestartSchema,
          versions: { type: 'array', items: summarySchema },
        },
      },
      ...errors(401, 429, 503),
    },
  }
  app.get(`${base}/versions`, { schema: versionsSchema }, listVersions)

  app.get<{ Params: { version: number } }>(
    `${base}/versions/:version/file`,
    {
      schema: {
        summary: `A version as a ${item}s file (YAML), to start instances from`,
        tags: [tag],
        params: versionParams,
        response: { ...errors(401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const version = (await writer.state()).versions.get(request.params.version)
      if (version === undefined) throw notFound(request.params.version)
      return reply.type('application/yaml').send(options.file(version))
    },
  )

  const has = (state: StoredState, id: string) => state.current.definitions.some((d) => d[idField] === id)

  app.post<{ Body: Record<string, unknown> }>(
    base,
    {
      schema: {
        summary: `Create a ${item} (a new version)`,
        tags: [tag],
        body: definitionBody,
        response: { 201: changeResponse, ...errors(400, 401, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const state = await writer.state()
      const id = request.body[idField]
      if (typeof id !== 'string' || id.trim() === '')
        throw new ApiError(400, 'id_required', `the definition needs ${idField}: a non-empty string, stable across versions`)
      if (has(state, id)) throw new ApiError(409, `${item.replace(' ', '_')}_exists`, `${item} '${id}' exists; PUT /api/v1${base}/${id} changes it`)
      return reply.code(201).send(await writer.commit(state, 'create', id, [...state.current.definitions, request.body], null, state.current.sections))
    },
  )

  app.put<{ Params: { id: string }; Body: Record<string, unknown> }>(
    `${base}/:id`,
    {
      schema: {
        summary: `Replace a ${item} definition (a new version)`,
        tags: [tag],
        params: idParams,
        body: definitionBody,
        response: { 200: changeResponse, ...errors(400, 401, 404, 409, 422, 429, 503) },
      },
    },
    async (request) => {
      const { id } = request.params
      if (request.body[idField] !== undefined && request.body[idField] !== id)
        throw new ApiError(
          400,
          'id_mismatch',
          `the definition's ${idField} '${String(request.body[idField])}' is not the path's '${id}'; an id is stable (it is part of ids and store names): create a new ${item} instead`,
        )
      const state = await writer.state()
      if (!has(state, id)) throw new ApiError(404, 'not_found', `no ${item} '${id}' in version ${state.current.version}; POST /api/v1${base} creates one`)
      const definitions = state.current.definitions.map((d) => (d[idField] === id ? { ...request.body, [idField]: id } : d))
      return writer.commit(state, 'update', id, definitions, null, state.current.sections)
    },
  )

  app.delete<{ Params: { id: string } }>(
    `${base}/:id`,
    {
      schema: {
        summary: `Delete a ${item} (a new version; it stops on every instance)`,
        tags: [tag],
        params: idParams,
        response: { 200: changeResponse, ...errors(401, 404, 409, 422, 429, 503) },
      },
    },
    async (request) => {
      const { id } = request.params
      const state = await writer.state()
      if (!has(state, id)) throw new ApiError(404, 'not_found', `no ${item} '${id}' in version ${state.current.version}`)
      return writer.commit(
        state,
        'delete',
        id,
        state.current.definitions.filter((d) => d[idField] !== id),
        null,
        state.current.sections,
      )
    },
  )

  const rollback = async (version: number): Promise<Record<string, unknown>> => {
    const state = await writer.state()
    const target = state.versions.get(version)
    if (target === undefined) throw notFound(version)
    return writer.commit(state, 'rollback', null, target.definitions, version, target.sections)
  }
  const rollbackSchema = {
    summary: 'Restore a version (as a new version copying it)',
    tags: [tag],
    params: versionParams,
    response: { 200: changeResponse, ...errors(401, 404, 409, 422, 429, 503) },
  }
  app.post<{ Params: { version: number } }>(`${base}/rollback/:version`, { schema: rollbackSchema }, async (request) => rollback(request.params.version))
  return { listVersions, versionsSchema, rollback, rollbackSchema }
}
