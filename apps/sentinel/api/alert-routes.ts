/**
 * Alerts (the alert history, seed 001 `/api/v1/alerts`): list (scatter-gather over every instance,
 * paginated and partial like anomalies), one by id with its deliveries (from the instance holding
 * it), silence (`DELETE`), which writes a silence record to the silences topic (the alert view
 * marks the alert `silenced`) and, with the lifecycle, a silence of the alert id the dispatcher
 * honours; and `PUT` (acknowledge / resolve), a command to the alert lifecycle.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import { ALERT_STATUSES, ALERT_VIEW_STORE, type AlertSilence } from '../alert-view.js'
import { alertListing } from './alert-query.js'
import type { AlertLifecycleApi, ApiContext, RoutesOptions } from './api-context.js'
import type { AlertCommand } from '../alerting/alert-notification.js'
import { ApiError } from './errors.js'
import type { Silence } from '../delivery/silences.js'
import { forwardContext, type InteractiveQueries } from './interactive-queries.js'
import { SEVERITIES, anomalyEventSchema, errors, idParamsOf, listQueryOf, nullable } from './schemas.js'
import { sendJson } from './topic-write.js'
import { ViewQueries } from './view-reads.js'
import { addViewInternalRoutes, addViewRoutes } from './view-routes.js'

export const alertEventSchema = {
  type: 'object',
  description: 'AlertEvent (schemas/alert/alert-event.ts), as on the alerts topic',
  required: ['alert_id', 'rule_id', 'rule_name', 'timestamp', 'severity', 'title', 'description', 'anomaly_ids', 'anomaly', 'suppressed_count', 'actions'],
  properties: {
    alert_id: { type: 'string' },
    rule_id: { type: 'string' },
    rule_name: { type: 'string' },
    timestamp: { type: 'string', format: 'date-time' },
    severity: { type: 'string', enum: SEVERITIES },
    group: { type: 'object', additionalProperties: { type: 'string' }, description: "the rule's grouping fields and their values" },
    title: { type: 'string' },
    description: { type: 'string' },
    application_id: nullable('string'),
    anomaly_ids: { type: 'array', items: { type: 'string' } },
    anomaly: anomalyEventSchema,
    aggregation: {
      type: ['object', 'null'],
      properties: { function: { type: 'string' }, value: { type: 'number' }, threshold: { type: 'number' }, window_start: { type: 'string' }, window_end: { type: 'string' } },
    },
    suppressed_count: { type: 'integer' },
    actions: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, config: { type: 'object', additionalProperties: true } } } },
  },
} as const

export const deliverySchema = {
  type: 'object',
  description: "One receiver's latest delivery outcome (apps/sentinel/delivery/delivery-record.ts)",
  required: ['receiver', 'status', 'attempts', 'at'],
  properties: {
    alert_id: nullable('string'),
    rule_id: nullable('string'),
    receiver: nullable('string'),
    type: nullable('string'),
    action: nullable('string'),
    status: { type: 'string', enum: ['success', 'failed', 'circuit_open', 'skipped', 'silenced'] },
    attempts: { type: 'integer' },
    last_error: nullable('string'),
    http_status: nullable('integer'),
    duration_ms: { type: 'number' },
    at: { type: 'string' },
  },
} as const

/** An alert with its deliveries and silence, as the view holds it. */
export const listedAlertSchema = {
  type: 'object',
  required: ['alert', 'status', 'deliveries', 'silenced_by', 'silenced_at'],
  properties: {
    alert: alertEventSchema,
    status: { type: 'string', enum: ALERT_STATUSES, description: 'silenced; pending (no receiver reported yet); failed (some receiver failed); delivered (some receiver succeeded, none failed); skipped (nothing sent: receivers disabled or no actions)' },
    deliveries: { type: 'array', items: deliverySchema },
    silenced_by: nullable('string'),
    silenced_at: nullable('string'),
    silence_note: nullable('string'),
    lifecycle: {
      type: ['object', 'null'],
      description: 'the alert lifecycle (grouping, acknowledge/resolve, escalation); null before its first notification',
      properties: {
        state: { type: 'string', enum: ['firing', 'acknowledged', 'resolved'] },
        group_key: { type: 'string' },
        escalation_level: { type: 'integer' },
        acknowledged_by: nullable('string'),
        acknowledged_at: nullable('string'),
        resolved_by: { type: ['string', 'null'], description: 'null with resolved_at set: auto-resolved' },
        resolved_at: nullable('string'),
      },
    },
  },
} as const

export const alertIdParams = idParamsOf('alert_id')

export const alertListQuery = listQueryOf('alerts fired', {
  severity: { type: 'string', enum: SEVERITIES },
  rule_id: { type: 'string', minLength: 1 },
  application_id: { type: 'string', minLength: 1 },
  status: { type: 'string', enum: ALERT_STATUSES },
})

const silenceBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  description: 'optional: who silences it and why',
  properties: { by: { type: 'string', minLength: 1, maxLength: 200 }, note: { type: 'string', maxLength: 2000 } },
} as const

const silenceResponse = {
  type: 'object',
  required: ['alert_id', 'status', 'silenced_by', 'silenced_at'],
  properties: { alert_id: { type: 'string' }, status: { type: 'string' }, silenced_by: nullable('string'), silenced_at: { type: 'string' }, note: nullable('string') },
} as const

type AlertReads = NonNullable<ApiContext['alerts']>['reads']

/** The API's reads of the alert view (store `alerts-by-id`). */
export const alertViewQueries = (runtime: StreamsRuntime, queries: InteractiveQueries): AlertReads =>
  new ViewQueries(runtime, queries, { store: ALERT_VIEW_STORE, noun: 'alerts', singular: 'alert', internalPath: '/internal/v1/alerts', listing: alertListing })

const SILENCE_DESCRIPTION =
  'Written to the silences topic; the alert reads `silenced` shortly after (202). Silencing again keeps the first silence. With the alert lifecycle, also a silence matching `alert_id` (one year, see /silences): its later notifications (escalation, resolve) are not delivered.'

/** A per-alert silence lasts as long as the alert view keeps alerts by default. */
const PER_ALERT_SILENCE_MS = 365 * 86_400_000

const view = (reads: AlertReads) => ({ path: '/alerts', reads, querystring: alertListQuery, params: alertIdParams, item: listedAlertSchema })

/** `/api/v1/alerts...`; registered only when the API is given the alert view (`alerts` option). */
export const alertRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  const alerts = ctx.alerts
  if (alerts === null) return
  addViewRoutes(app, view(alerts.reads), {
    tag: 'alerts',
    listSummary: 'List alerts, newest first',
    listDescription: 'The alert history with delivery status. Gathers from every instance. `partial: true` (with `unavailable_hosts`) when some instance did not answer.',
    itemSummary: 'One alert with its deliveries',
  })

  app.delete<{ Params: { id: string }; Body: { by?: string; note?: string } | null | undefined }>(
    '/alerts/:id',
    { schema: { summary: 'Silence an alert', description: SILENCE_DESCRIPTION, tags: ['alerts'], params: alertIdParams, body: silenceBody, response: { 202: silenceResponse, ...errors(400, 401, 404, 429, 502, 503) } } },
    async (request, reply) => {
      const { id } = request.params
      const entry = await alerts.reads.known(id, forwardContext(request))
      if (entry.silenced_at !== null) return reply.code(202).send({ alert_id: id, status: 'silenced', silenced_by: entry.silenced_by, silenced_at: entry.silenced_at, note: entry.silence_note })
      const silence: AlertSilence = { type: 'silence', alert_id: id, by: request.body?.by ?? null, note: request.body?.note ?? null, at: new Date().toISOString() }
      // Wall-clock stamped: the alert view's retention goes by alert times, not by record times.
      await sendJson(ctx.runtime, app.log, alerts.silencesTopic, id, silence)
      // With the lifecycle, the dispatcher honours it too: a silence of this alert id (for as long as alerts are kept).
      if (alerts.lifecycle !== null) {
        const rule: Silence = { type: 'silence-rule', id: `alert-${id}`, matchers: [{ name: 'alert_id', value: id, is_regex: false, is_equal: true }], starts_at: silence.at, ends_at: new Date(Date.parse(silence.at) + PER_ALERT_SILENCE_MS).toISOString(), created_by: silence.by, comment: silence.note, updated_at: silence.at }
        await sendJson(ctx.runtime, app.log, alerts.lifecycle.silenceRulesTopic, rule.id, rule)
        alerts.lifecycle.silences.apply(rule)
      }
      return reply.code(202).send({ alert_id: id, status: 'silenced', silenced_by: silence.by, silenced_at: silence.at, note: silence.note })
    },
  )
  if (alerts.lifecycle !== null) addLifecycleRoute(app, ctx, alerts, alerts.lifecycle)
}

const lifecycleBody = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['acknowledged', 'resolved'], description: 'acknowledged: stops its escalation; resolved: ends it, with a resolved notification to every receiver it reached' },
    by: { type: 'string', minLength: 1, maxLength: 200 },
    note: { type: 'string', maxLength: 2000 },
  },
} as const

const lifecycleResponse = {
  type: 'object',
  required: ['alert_id', 'status', 'by', 'at'],
  properties: { alert_id: { type: 'string' }, status: { type: 'string' }, by: nullable('string'), at: { type: 'string' } },
} as const

const LIFECYCLE_DESCRIPTION =
  "Acknowledge or resolve an alert (Alertmanager-like lifecycle): a command to the alert lifecycle, which holds the alert's notification group. Accepted (202): the alert's `lifecycle.state` reads it shortly after. Resolving an alert the lifecycle no longer holds (already resolved) changes nothing."

/** `PUT /api/v1/alerts/:id`: registered when the API is given the lifecycle. */
function addLifecycleRoute(app: Parameters<FastifyPluginAsync<RoutesOptions>>[0], ctx: ApiContext, alerts: NonNullable<ApiContext['alerts']>, lifecycle: AlertLifecycleApi): void {
  app.put<{ Params: { id: string }; Body: { status: 'acknowledged' | 'resolved'; by?: string; note?: string } }>(
    '/alerts/:id',
    { schema: { summary: 'Acknowledge or resolve an alert', description: LIFECYCLE_DESCRIPTION, tags: ['alerts'], params: alertIdParams, body: lifecycleBody, response: { 202: lifecycleResponse, ...errors(400, 401, 404, 409, 429, 502, 503) } } },
    async (request, reply) => {
      const { id } = request.params
      const entry = await alerts.reads.known(id, forwardContext(request))
      if (entry.alert === null) throw new ApiError(409, 'conflict', `alert '${id}' is known only by its deliveries so far; retry in a moment`)
      const command: AlertCommand = { type: 'command', command: request.body.status === 'resolved' ? 'resolve' : 'acknowledge', alert_id: id, by: request.body.by ?? null, note: request.body.note ?? null, at: new Date(ctx.now()).toISOString() }
      await sendJson(ctx.runtime, app.log, lifecycle.commandsTopic, await lifecycle.groupKeyOf(entry.alert), command)
      return reply.code(202).send({ alert_id: id, status: request.body.status, by: command.by, at: command.at })
    },
  )
}

/** `/internal/v1/alerts...`: what instances ask each other for the alert listing and reads. */
export const alertInternalRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  if (ctx.alerts !== null) addViewInternalRoutes(app, view(ctx.alerts.reads))
}
