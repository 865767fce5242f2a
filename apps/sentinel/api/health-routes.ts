/**
 * Operations endpoints (no rate limit): liveness (/api/v1/health, alias /health), readiness and Prometheus metrics, for
 * orchestrators and scrapers. Liveness and readiness are always open; /metrics is open unless the
 * caller passes the API-key hook in `metricsOnRequest` (configuration: `api.authenticate.metrics`).
 */
import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import type { RoutesOptions } from './api-context.js'
import { errorSchema } from './schemas.js'

export const healthRoutes: FastifyPluginAsync<RoutesOptions & { readonly metricsOnRequest: readonly onRequestAsyncHookHandler[] }> = async (app, { ctx, metricsOnRequest }) => {
  const open = { security: [] }

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
        summary: 'Readiness: 200 only while the streams runtime is running',
        tags: ['operations'],
        ...open,
        response: { 200: { type: 'object', required: ['status', 'state'], properties: { status: { type: 'string' }, state: { type: 'string' } } }, 503: errorSchema },
      },
    },
    async (_request, reply) => {
      const state = ctx.runtime.state
      if (state === 'running') return { status: 'ready', state }
      return reply.code(503).header('retry-after', '5').send({ error: 'not_ready', message: `the streams runtime is '${state}', not 'running'`, details: { state } })
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
