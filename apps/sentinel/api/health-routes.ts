/**
 * Operations endpoints (no rate limit): liveness (/api/v1/health, alias /health), readiness and Prometheus metrics, for
 * orchestrators and scrapers. Liveness and readiness are always open; /metrics is open unless the
 * caller passes the API-key hook in `metricsOnRequest` (configuration: `api.authenticate.metrics`).
 */
import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import { Readiness } from '../../../runtime/readiness.js'
import type { RoutesOptions } from './api-context.js'
import { errorSchema } from './schemas.js'

export const healthRoutes: FastifyPluginAsync<RoutesOptions & { readonly metricsOnRequest: readonly onRequestAsyncHookHandler[] }> = async (app, { ctx, metricsOnRequest }) => {
  const open = { security: [] }
  // Ready through the rebalances that follow a run, as `sentinel-streams run --health-port`: every
  // instance joining rebalances the whole group, and a 503 then takes every pod out of its Service.
  const readiness = new Readiness(ctx.runtime)

  // Seed 002's path and body (`uptime` in seconds); `/health` stays as an alias for existing probes.
  const health = {
    schema: {
      summary: 'Liveness: 200 while the process runs',
      tags: ['operations'],
      ...open,
      response: {
        200: {
          type: 'object',
          required: ['status', 'uptime', 'version', 'uptime_seconds', 'mode', 'state'],
          properties: { status: { type: 'string' }, uptime: { type: 'number', description: 'seconds since start' }, version: { type: 'string' }, uptime_seconds: { type: 'number', description: 'the same as uptime (older name)' }, mode: { type: 'string' }, state: { type: 'string' } },
        },
      },
    },
  }
  const answer = async () => {
    const uptime = Math.round((Date.now() - ctx.startedAt) / 1000)
    return { status: 'healthy', uptime, version: ctx.version, uptime_seconds: uptime, mode: ctx.runtime.mode, state: ctx.runtime.state }
  }
  app.get('/api/v1/health', health, answer)
  app.get('/health', health, answer)

  app.get(
    '/ready',
    {
      schema: {
        summary: 'Readiness: 200 once the streams runtime has run, through the rebalances that follow; 503 while starting, shutting down or failed',
        tags: ['operations'],
        ...open,
        response: { 200: { type: 'object', required: ['status', 'state'], properties: { status: { type: 'string' }, state: { type: 'string' }, reason: { type: 'string' } } }, 503: errorSchema },
      },
    },
    async (_request, reply) => {
      const { ready, state, reason } = readiness.report()
      if (ready) return { status: 'ready', state, reason }
      return reply.code(503).header('retry-after', '5').send({ error: 'not_ready', message: `the streams runtime is '${state}': ${reason}`, details: { state } })
    },
  )

  app.get(
    '/metrics',
    {
      schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['operations'], ...(metricsOnRequest.length === 0 ? open : {}), response: { 200: { type: 'string' } } },
      onRequest: [...metricsOnRequest],
    },
    async (_request, reply) => {
      const registry = ctx.metrics.registry
      return reply.type(registry.contentType).send(await registry.metrics())
    },
  )
}
