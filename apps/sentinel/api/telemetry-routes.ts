/**
 * POST /api/v1/telemetry/events: a batch of TelemetryEvents, each validated on its own at the edge
 * (schemas/telemetry: unknown fields, wrong types and missing fields are reported per event as
 * `path: message`). The valid ones are written to the telemetry topic in one `send`, keyed by
 * application_id (the detection topology re-keys per detector group anyway; keying by application
 * keeps one application's events in order on one partition). An event is accepted or rejected
 * whole, never half-processed. 202 once the log has them; 400 with the same body when none is valid.
 */
import type { FastifyPluginAsync } from 'fastify'
import { type TelemetryEvent, type TelemetryIssue, validateTelemetryEvent } from '../../../schemas/telemetry/index.js'
import type { OutgoingRecord } from '../../../runtime/streams-runtime.js'
import type { RoutesOptions } from './api-context.js'
import { ApiError, unavailable } from './errors.js'
import { errors, ingestRejectedResponse, ingestResponse, telemetryBody, telemetryBodyDocumented } from './schemas.js'

interface EventError {
  readonly index: number
  readonly event_id?: string
  readonly issues: readonly TelemetryIssue[]
}

export const telemetryRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  let prepared: Promise<void> | undefined

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
      const valid: TelemetryEvent[] = []
      const rejected: EventError[] = []
      events.forEach((event, index) => {
        const result = validateTelemetryEvent(event)
        if (result.ok) valid.push(result.event)
        else {
          const id = typeof event === 'object' && event !== null ? (event as { event_id?: unknown }).event_id : undefined
          rejected.push({ index, ...(typeof id === 'string' ? { event_id: id } : {}), issues: result.issues })
        }
      })
      if (valid.length === 0) {
        return reply.code(400).send({ error: 'invalid_events', message: `all ${events.length} events are invalid; see errors for each event's fields`, accepted: 0, rejected: rejected.length, errors: rejected })
      }
      const serde = ctx.telemetrySerde
      prepared ??= serde.prepare?.(ctx.telemetryTopic) ?? Promise.resolve()
      const records: OutgoingRecord[] = []
      try {
        await prepared
        for (const event of valid) records.push({ key: event.application_id, value: serde.serialize(event, ctx.telemetryTopic) })
        await ctx.runtime.send(ctx.telemetryTopic, records)
      } catch (err) {
        prepared = undefined
        request.log.error({ err }, 'telemetry could not be written')
        throw unavailable(`the telemetry topic '${ctx.telemetryTopic}' cannot be written right now (${(err as Error).message}); retry the batch (ingestion is at least once: a failed batch may be partly written)`)
      }
      ctx.metrics.eventsAccepted(valid)
      return reply.code(202).send({ accepted: valid.length, rejected: rejected.length, errors: rejected })
    },
  )
}
