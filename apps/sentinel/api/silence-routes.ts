/**
 * Silences (`/api/v1/silences`, Alertmanager's): label matchers with a start and an end that stop
 * delivery of the alerts they match (delivery/silences.ts). Created and expired by writing to the
 * silence-rules topic; every instance's dispatcher reads that topic whole, so the listing here (from
 * this instance's book) is every instance's. Registered when the API is given the lifecycle.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import { type Silence, type SilenceMatcher, matcherProblems, silenceState } from '../delivery/silences.js'
import type { RoutesOptions } from './api-context.js'
import { ApiError } from './errors.js'
import { errors, idParamsOf, nullable } from './schemas.js'
import { sendJson } from './topic-write.js'

const matcherSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'value'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128, description: 'an alert label: rule, severity, alert_id, detector_id, application_id, tenant_id, a group field, a rule label (team)' },
    value: { type: 'string', maxLength: 256 },
    is_regex: { type: 'boolean', default: false, description: 'value is a regular expression matching the whole label (at most 200 characters)' },
    is_equal: { type: 'boolean', default: true, description: 'false: the label must not match' },
  },
} as const

const silenceSchema = {
  type: 'object',
  required: ['id', 'matchers', 'starts_at', 'ends_at', 'state'],
  properties: {
    id: { type: 'string' },
    matchers: { type: 'array', items: matcherSchema },
    starts_at: { type: 'string' },
    ends_at: { type: 'string' },
    created_by: nullable('string'),
    comment: nullable('string'),
    updated_at: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'active', 'expired'] },
  },
} as const

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['matchers', 'ends_at'],
  properties: {
    matchers: { type: 'array', minItems: 1, maxItems: 32, items: matcherSchema },
    starts_at: { type: 'string', format: 'date-time', description: 'default: now' },
    ends_at: { type: 'string', format: 'date-time' },
    created_by: { type: 'string', minLength: 1, maxLength: 200 },
    comment: { type: 'string', maxLength: 2000 },
  },
} as const

const params = idParamsOf('silence_id')

export const silenceRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  const lifecycle = ctx.alerts?.lifecycle
  if (!lifecycle) return
  const shown = (s: Silence) => ({ ...s, state: silenceState(s, ctx.now()) })

  app.post<{ Body: { matchers: { name: string; value: string; is_regex?: boolean; is_equal?: boolean }[]; starts_at?: string; ends_at: string; created_by?: string; comment?: string } }>(
    '/silences',
    { schema: { summary: 'Create a silence', description: 'Stops delivery of the alerts whose labels match every matcher, from starts_at to ends_at. 201 once written; dispatchers apply it within moments.', tags: ['silences'], body: createBody, response: { 201: silenceSchema, ...errors(400, 401, 429, 503) } } },
    async (request, reply) => {
      const body = request.body
      const now = ctx.now()
      const matchers: SilenceMatcher[] = body.matchers.map((m) => ({ name: m.name, value: m.value, is_regex: m.is_regex ?? false, is_equal: m.is_equal ?? true }))
      const problems = matcherProblems(matchers)
      const startsAt = body.starts_at === undefined ? now : Date.parse(body.starts_at)
      const endsAt = Date.parse(body.ends_at)
      if (!(endsAt > startsAt)) problems.push('ends_at: must be after starts_at (default now)')
      if (!(endsAt > now)) problems.push('ends_at: must be in the future')
      if (problems.length > 0) throw new ApiError(400, 'invalid_silence', problems.join('; '), { problems })
      const silence: Silence = {
        type: 'silence-rule',
        id: randomUUID(),
        matchers,
        starts_at: new Date(startsAt).toISOString(),
        ends_at: new Date(endsAt).toISOString(),
        created_by: body.created_by ?? null,
        comment: body.comment ?? null,
        updated_at: new Date(now).toISOString(),
      }
      await sendJson(ctx.runtime, app.log, lifecycle.silenceRulesTopic, silence.id, silence)
      // This instance's book learns it from the topic too; applying it now makes a list right after the POST show it.
      lifecycle.silences.apply(silence)
      return reply.code(201).send(shown(silence))
    },
  )

  app.get('/silences', { schema: { summary: 'List silences', description: 'Every silence (pending, active, and expired ones of the last day), from the silence-rules topic.', tags: ['silences'], response: { 200: { type: 'object', required: ['silences'], properties: { silences: { type: 'array', items: silenceSchema } } }, ...errors(401, 429) } } }, async () => ({
    silences: lifecycle.silences.list().map(shown),
  }))

  app.delete<{ Params: { id: string } }>(
    '/silences/:id',
    { schema: { summary: 'Expire a silence', description: 'Ends it now (a new version with ends_at = now); its alerts are delivered again from then on, not retroactively.', tags: ['silences'], params, response: { 202: silenceSchema, ...errors(401, 404, 429, 503) } } },
    async (request, reply) => {
      const silence = lifecycle.silences.get(request.params.id)
      if (silence === undefined) throw new ApiError(404, 'not_found', `no silence '${request.params.id}'`)
      const now = new Date(ctx.now()).toISOString()
      const expired: Silence = { ...silence, ends_at: now < silence.ends_at ? now : silence.ends_at, updated_at: now }
      await sendJson(ctx.runtime, app.log, lifecycle.silenceRulesTopic, expired.id, expired)
      lifecycle.silences.apply(expired)
      return reply.code(202).send(shown(expired))
    },
  )
}
