/**
 * Anomalies: list (scatter-gather over every instance), one by id (from the instance holding it),
 * acknowledge, and feedback (true/false positive, kept on the feedback topic for evaluation).
 *
 * Listing with an instance that does not answer: 200 with what the others returned, `partial: true`
 * and `unavailable_hosts`, rather than 503. A listing is for browsing and triage; during a rolling
 * restart an operator is better served by most anomalies, clearly flagged as incomplete, than by
 * none. Clients that need completeness check `partial` and retry. Only when no instance answers is
 * it 503.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { AnomalyAcknowledgement, AnomalyFeedback, FeedbackLabel } from '../anomaly-view.js'
import type { RoutesOptions } from './api-context.js'
import { forwardContext } from './interactive-queries.js'
import { acknowledgeBody, acknowledgeResponse, anomalyIdParams, anomalyListQuery, errors, feedbackBody, feedbackResponse, listedAnomalySchema } from './schemas.js'
import { sendJson } from './topic-write.js'
import { addViewRoutes } from './view-routes.js'

export const anomalyRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  const reads = ctx.reads.anomalies
  addViewRoutes(
    app,
    { path: '/anomalies', reads, querystring: anomalyListQuery, params: anomalyIdParams, item: listedAnomalySchema },
    {
      tag: 'anomalies',
      listSummary: 'List anomalies, newest first',
      listDescription: 'Gathers from every instance. `partial: true` (with `unavailable_hosts`) when some instance did not answer.',
      itemSummary: 'One anomaly with its acknowledgement and feedback',
    },
  )

  app.post<{ Params: { id: string }; Body: { by: string; note?: string } }>(
    '/anomalies/:id/acknowledge',
    {
      schema: {
        summary: 'Acknowledge an anomaly',
        description: 'Written to the acknowledgements topic; the view shows it shortly after (202).',
        tags: ['anomalies'],
        params: anomalyIdParams,
        body: acknowledgeBody,
        response: { 202: acknowledgeResponse, ...errors(400, 401, 404, 429, 502, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      const { anomaly } = await reads.known(id, forwardContext(request))
      const ack: AnomalyAcknowledgement = { type: 'acknowledge', anomaly_id: id, by: request.body.by, note: request.body.note ?? null, at: new Date().toISOString() }
      await send(ctx.acksTopic, id, ack, Date.parse(anomaly.timestamp))
      return reply.code(202).send({ anomaly_id: id, status: 'acknowledged', acknowledged_by: ack.by, acknowledged_at: ack.at, note: ack.note })
    },
  )

  app.post<{ Body: { anomaly_id: string; label: FeedbackLabel; comment?: string; by?: string } }>(
    '/feedback',
    {
      schema: {
        summary: 'Label an anomaly as a true or false positive',
        description: 'Kept on the feedback topic for evaluating detectors, and shown with the anomaly. 404 for an unknown anomaly.',
        tags: ['anomalies'],
        body: feedbackBody,
        response: { 202: feedbackResponse, ...errors(400, 401, 404, 429, 502, 503) },
      },
    },
    async (request, reply) => {
      const { anomaly_id, label, comment, by } = request.body
      const { anomaly } = await reads.known(anomaly_id, forwardContext(request))
      const feedback: AnomalyFeedback = { type: 'feedback', anomaly_id, label, comment: comment ?? null, by: by ?? null, at: new Date().toISOString() }
      await send(ctx.feedbackTopic, anomaly_id, feedback, Date.parse(anomaly.timestamp))
      return reply.code(202).send(feedback)
    },
  )

  /**
   * Records carry their anomaly's timestamp, not the wall clock: the view's retention runs on stream
   * time, which a wall-clock record would push ahead of replayed telemetry (see anomaly-view.ts).
   */
  const send = (topic: string, key: string, value: AnomalyAcknowledgement | AnomalyFeedback, timestamp: number): Promise<void> => sendJson(ctx.runtime, app.log, topic, key, value, timestamp)
}
