/**
 * GET /api/v1/config: the effective configuration of this instance, secrets redacted (built by
 * ../effective-config.ts and handed to buildSentinelApi). Read only: the seed's PUT is not built;
 * its versions and rollback, for detectors, are in detector-version-routes.ts.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { RoutesOptions } from './api-context.js'
import { errors } from './schemas.js'

export const configRoutes: FastifyPluginAsync<RoutesOptions & { readonly config: Readonly<Record<string, unknown>> }> = async (app, { config }) => {
  app.get(
    '/config',
    {
      schema: {
        summary: 'The effective configuration (defaults and environment applied; secrets redacted)',
        tags: ['configuration'],
        response: { 200: { type: 'object', additionalProperties: true }, ...errors(401, 429) },
      },
    },
    async () => config,
  )
}
