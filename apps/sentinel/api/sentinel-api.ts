/**
 * LLM-Sentinel's REST API on fastify, over a running streams application (any `StreamsRuntime`:
 * Kafka or standalone). `buildSentinelApi` returns the instance, not listening: the caller listens
 * (and closes it before the runtime).
 *
 * Layout (fastify's encapsulation: one plugin per route group; nothing is decorated, route plugins
 * get what they share as options):
 *   /health, /ready, /metrics, /openapi.json   open
 *   /api/v1/...                                 API key (when configured), rate limit
 *   /internal/v1/...                            API key (when configured); what instances ask each other
 *
 * Requests are validated by their JSON schemas without coercion of bodies (a "5" is not a number)
 * and with unknown body fields rejected (never silently removed); query strings are coerced (they
 * are text). Every error is JSON `{ error, message, details? }` (errors.ts).
 */
import { readFileSync } from 'node:fs'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import { Ajv } from 'ajv'
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import type { Serde } from '../../../schemas/serde.js'
import { type TelemetryEvent, telemetryEventJsonSchema, telemetryJsonSerde } from '../../../schemas/telemetry/index.js'
import type { DetectorsConfig } from '../detectors-config.js'
import { alertInternalRoutes, alertRoutes, alertViewQueries } from './alert-routes.js'
import type { ApiContext } from './api-context.js'
import { ApiMetrics } from './api-metrics.js'
import { anomalyRoutes } from './anomaly-routes.js'
import { ApiKeys } from './bearer-auth.js'
import { detectorRoutes } from './detector-routes.js'
import { ApiError, installErrorHandlers } from './errors.js'
import { healthRoutes } from './health-routes.js'
import { InteractiveQueries } from './interactive-queries.js'
import { internalRoutes } from './internal-routes.js'
import { telemetryRoutes } from './telemetry-routes.js'
import { ViewReads } from './view-reads.js'

export interface RateLimitOptions {
  /** Requests per window and client (API key, else IP). Seed 001: 1000 per minute. */
  readonly max: number
  readonly timeWindowMs: number
}

export interface SentinelApiOptions {
  readonly runtime: StreamsRuntime
  readonly detectors: DetectorsConfig
  /** Where ingested telemetry goes (the detection topology's input topic). */
  readonly telemetryTopic: string
  /** The anomaly view's acknowledgements and feedback topics (see anomaly-view.ts). */
  readonly acksTopic: string
  readonly feedbackTopic: string
  /**
   * The alert routes (`/api/v1/alerts`), over the alert view (`../alert-view.ts`, which the topology
   * must include) and the topic silences are written to (the view's `silencesTopic`). Absent: no
   * alert routes.
   */
  readonly alerts?: { readonly silencesTopic: string }
  /** Bearer keys; none or empty: the API is open. */
  readonly apiKeys?: readonly string[]
  /** Largest request body, bytes (413 beyond). */
  readonly bodyLimit: number
  /** False: no rate limit. */
  readonly rateLimit: RateLimitOptions | false
  readonly metrics: Registry
  /** A pino logger (or false for none). */
  readonly logger: FastifyBaseLogger | false
  /** How telemetry is encoded on the topic: the topology's input format (default JSON). */
  readonly telemetrySerde?: Serde<TelemetryEvent>
  /** Timeout of a request forwarded to another instance; default 5000 ms. */
  readonly forwardTimeoutMs?: number
  /** Most events per ingest request; default 5000. */
  readonly maxBatchEvents?: number
  /** Shown by /health; default: this package's version. */
  readonly version?: string
}

// ajv-formats is CJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = (addFormatsModule as unknown as { default: FormatsPlugin }).default

function packageVersion(): string {
  // From source (apps/sentinel/api) and from dist (dist/apps/sentinel/api) alike.
  for (const path of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'sentinel-streams' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // try the next location
    }
  }
  return 'unknown'
}

function checkOptions(options: SentinelApiOptions): void {
  const problems: string[] = []
  if (!(Number.isSafeInteger(options.bodyLimit) && options.bodyLimit > 0)) problems.push(`bodyLimit must be a positive integer (bytes), got ${options.bodyLimit}`)
  if (options.rateLimit !== false && !(options.rateLimit.max >= 1 && options.rateLimit.timeWindowMs >= 1)) problems.push('rateLimit must be false or { max >= 1, timeWindowMs >= 1 }')
  for (const name of ['telemetryTopic', 'acksTopic', 'feedbackTopic'] as const) if (!options[name]) problems.push(`${name} must be a topic name`)
  if (options.alerts !== undefined && !options.alerts.silencesTopic) problems.push('alerts.silencesTopic must be a topic name (or leave alerts out: no alert routes)')
  if (problems.length > 0) throw new Error(`buildSentinelApi: ${problems.join('; ')}`)
}

/** Two validators: bodies exactly as sent, query strings and params coerced from text. */
function validatorCompiler(): (route: { schema: object; httpPart?: string }) => (data: unknown) => boolean {
  const options = { allErrors: true, strict: false, removeAdditional: false } as const
  const exact = new Ajv({ ...options, coerceTypes: false, useDefaults: false })
  const coercing = new Ajv({ ...options, coerceTypes: 'array', useDefaults: true })
  addFormats(exact, ['date-time', 'uuid'])
  addFormats(coercing, ['date-time', 'uuid'])
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema)
}

export function buildSentinelApi(options: SentinelApiOptions): FastifyInstance {
  checkOptions(options)
  const apiKeys = new ApiKeys(options.apiKeys ?? [])
  const app: FastifyInstance = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger }),
    bodyLimit: options.bodyLimit,
    // A forwarded request carries the client request's id, so both instances' logs show one id.
    requestIdHeader: 'x-request-id',
  }) as unknown as FastifyInstance
  app.setValidatorCompiler(validatorCompiler())
  installErrorHandlers(app, options.bodyLimit)

  // JSON.parse's own message says where a body breaks, which a 1000-event batch needs.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string
    if (text.length === 0) return done(new ApiError(400, 'malformed_json', 'the body is empty but Content-Type is application/json; send a JSON document'), undefined)
    try {
      done(null, JSON.parse(text))
    } catch (err) {
      done(new ApiError(400, 'malformed_json', `the request body is not valid JSON: ${(err as Error).message}`), undefined)
    }
  })

  const metrics = new ApiMetrics(options.metrics)
  const queries = new InteractiveQueries(options.runtime, options.forwardTimeoutMs ?? 5000, app.log)
  const ctx: ApiContext = {
    runtime: options.runtime,
    detectors: options.detectors,
    reads: new ViewReads(options.runtime, queries),
    metrics,
    telemetryTopic: options.telemetryTopic,
    acksTopic: options.acksTopic,
    feedbackTopic: options.feedbackTopic,
    alerts: options.alerts === undefined ? null : { reads: alertViewQueries(options.runtime, queries), silencesTopic: options.alerts.silencesTopic },
    telemetrySerde: options.telemetrySerde ?? telemetryJsonSerde(),
    maxBatchEvents: options.maxBatchEvents ?? 5000,
    version: options.version ?? packageVersion(),
    startedAt: Date.now(),
  }

  // Request durations per route pattern, for every route (hooks on the root reach all children).
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.requestDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })

  const { $schema: _draft, ...telemetrySchema } = telemetryEventJsonSchema
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'LLM-Sentinel API', version: ctx.version, description: 'Real-time anomaly detection on LLM telemetry, on sentinel-streams.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key' } },
        schemas: { TelemetryEvent: telemetrySchema as unknown as Record<string, unknown> },
      },
      ...(apiKeys.enabled ? { security: [{ bearer: [] }] } : {}),
    },
  })
  void app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  void app.register(healthRoutes, { ctx })

  const guarded = apiKeys.enabled ? [apiKeys.hook()] : []
  void app.register(
    async (api) => {
      if (options.rateLimit !== false) {
        // Before the key check, so guessing keys is limited too; a valid key is its own bucket.
        await api.register(rateLimit, {
          max: options.rateLimit.max,
          timeWindow: options.rateLimit.timeWindowMs,
          keyGenerator: (request) => {
            const token = ApiKeys.token(request)
            return apiKeys.enabled && apiKeys.isValid(token) ? `key:${token}` : `ip:${request.ip}`
          },
          errorResponseBuilder: (_request, context) => new ApiError(context.statusCode, 'rate_limited', `rate limit exceeded: at most ${context.max} requests per ${options.rateLimit === false ? 0 : options.rateLimit.timeWindowMs / 1000} s; retry in ${context.after}`),
        })
      }
      for (const hook of guarded) api.addHook('onRequest', hook)
      await api.register(telemetryRoutes, { ctx })
      await api.register(anomalyRoutes, { ctx })
      await api.register(alertRoutes, { ctx })
      await api.register(detectorRoutes, { ctx })
    },
    { prefix: '/api/v1' },
  )
  void app.register(
    async (internal) => {
      for (const hook of guarded) internal.addHook('onRequest', hook)
      await internal.register(internalRoutes, { ctx })
      await internal.register(alertInternalRoutes, { ctx })
    },
    { prefix: '/internal/v1' },
  )
  return app
}
