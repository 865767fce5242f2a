/**
 * POST /api/v1/telemetry/events: a batch of TelemetryEvents (an array or `{events}`), each judged on
 * its own by the shared ingest (telemetry-ingest.ts: validation, event-time bounds, recent-id
 * dedup, one write). 202 once the log has the valid ones; 400 with the same body when no event is
 * valid (and none was a duplicate).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { ApiContext } from './api-context.js'
import { ApiError } from './errors.js'
import { errors, ingestRejectedResponse, ingestResponse, telemetryBody, telemetryBodyDocumented } from './schemas.js'

/** Needs only the batch limit and the ingest: the ingest thread (ingest-edge.ts) serves it too. */
export const telemetryRoutes: FastifyPluginAsync<{ readonly ctx: Pick<ApiContext, 'maxBatchEvents' | 'ingest'> }> = async (app, { ctx }) => {
  app.post<{ Body: unknown[] | { events: unknown[] } }>(
    '/telemetry/events',
    {
      config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: telemetryBodyDocumented }, url }) },
      schema: {
        summary: 'Ingest a batch of telemetry events',
        tags: ['telemetry'],
        body: telemetryBody,
        response: { 202: ingestResponse, 400: ingestRejectedResponse, ...errors(401, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const events = Array.isArray(request.body) ? request.body : request.body.events
      if (events.length > ctx.maxBatchEvents) throw new ApiError(413, 'payload_too_large', `the batch has ${events.length} events; at most ${ctx.maxBatchEvents} per request, split it`)
      const result = await ctx.ingest.ingest(events, request, 'http')
      if (result.accepted === 0 && result.duplicates === 0) {
        return reply.code(400).send({ error: 'invalid_events', message: `all ${events.length} events are invalid; see errors for each event's fields`, ...result })
      }
      return reply.code(202).send(result)
    },
  )
}
