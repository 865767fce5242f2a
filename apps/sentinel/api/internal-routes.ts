/**
 * `/internal/v1/...`: what instances ask each other. Each answers from this instance's stores only
 * and never forwards (see interactive-queries.ts); behind the same API keys as the public API, with
 * a rate limit of its own, higher than the public one (a client request fans out to every instance).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { RoutesOptions } from './api-context.js'
import { ApiError } from './errors.js'
import { anomalyIdParams, anomalyListQuery, detectorIdParams, errors, listedAnomalySchema, slotQuery, slotResponse } from './schemas.js'
import { addViewInternalRoutes } from './view-routes.js'

export const internalRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  addViewInternalRoutes(app, { path: '/anomalies', reads: ctx.reads.anomalies, querystring: anomalyListQuery, params: anomalyIdParams, item: listedAnomalySchema })

  app.get<{ Params: { id: string }; Querystring: { key: string } }>(
    '/detectors/:id/slot',
    { schema: { summary: "A detector's stored slot for a key this instance holds", tags: ['internal'], params: detectorIdParams, querystring: slotQuery, response: { 200: slotResponse, ...errors(401, 404, 503) } } },
    async (request) => {
      // The detectors this instance runs now (they change with a rebuild); an unknown id has no slot store.
      const detector = ctx.detectors.detectors.find((d) => d.id === request.params.id)
      if (detector === undefined) throw new ApiError(404, 'not_found', `no detector '${request.params.id}'; GET /api/v1/detectors lists them`)
      const slot = await ctx.reads.ownedSlot(detector, request.query.key)
      if (slot === undefined) throw new ApiError(404, 'not_found', `no slot for key '${request.query.key}' of detector '${request.params.id}' here`)
      return { slot }
    },
  )
}
