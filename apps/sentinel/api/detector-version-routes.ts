/**
 * Detector definitions managed over the API (seed 001: /api/v1/detectors POST, PUT /:id, DELETE
 * /:id; /api/v1/config/versions and /rollback/:version), as versions in the config topic
 * (../detector-versions.ts has the model and what applies live), written by detector-version-writer.ts,
 * the path the watched detectors file takes too. The routes are config-version-routes.ts's, as for
 * the alert rules.
 */
import type { FastifyPluginAsync } from 'fastify'
import { pendingRestart, versionFile } from '../detector-versions.js'
import { appliedVersion } from '../live-detector-settings.js'
import { RunningDetectors } from '../running-detectors.js'
import type { RoutesOptions } from './api-context.js'
import { outcomeSchema, versionRoutes } from './config-version-routes.js'
import { parsedDefinitions } from './detector-version-writer.js'

const detectorOutcome = {
  detector: { type: ['object', 'null'], additionalProperties: true },
  ...outcomeSchema(
    { field: 'detector_id', type: 'string' },
    'a definition field, or (created) / (deleted)',
    'true: every running instance applies this version without a restart (live, or live-fresh by a rebuild of its topology)',
  ),
  starts_fresh: {
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    description:
      'per detector, the fields that change its shape: every instance rebuilds its topology, and the detector starts with fresh state (its earlier state stays under its old shape, for a rollback)',
  },
}

export const detectorVersionRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  const writer = ctx.versions?.detectors
  if (writer === undefined) return
  const { listVersions, versionsSchema, rollback, rollbackSchema } = versionRoutes(app, writer, {
    base: '/detectors',
    tag: 'detectors',
    item: 'detector',
    outcomeSchema: detectorOutcome,
    file: versionFile,
    appliedVersion,
    // A version written past the API (straight to the topic) that does not parse: the running detectors keep their start-up definitions.
    pendingRestart: (state) => {
      const parsed = parsedDefinitions(state.current)
      return parsed === null ? {} : pendingRestart(ctx.detectors, parsed)
    },
    topologyVersion: () => (ctx.detectors instanceof RunningDetectors ? ctx.detectors.version : 0),
  })
  // Seed 001's spelling under /config (the detectors were the first configuration versioned here).
  app.get('/config/versions', { schema: { ...versionsSchema, tags: ['configuration'] } }, listVersions)
  app.post<{ Params: { version: number } }>('/config/rollback/:version', { schema: { ...rollbackSchema, tags: ['configuration'] } }, async (request) =>
    rollback(request.params.version),
  )
}
