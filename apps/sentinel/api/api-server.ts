/**
 * The fastify instance every Sentinel HTTP listener starts from, so the main API and the ingest
 * thread's edge (ingest-edge.ts) answer alike: the redacting logger, no fastify request logs (one
 * line per request with credentials masked instead), the body limit, the client's request id when it
 * is a short plain token, exact body validation and coerced query strings, JSON error bodies, the
 * hardened JSON body parser and the refusal of credentials in query strings. And the rate limit's
 * settings, keyed per API key (else per address) the same way on both.
 */
import { randomUUID } from 'node:crypto'
import { Ajv } from 'ajv'
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify'
import { ApiKeys } from './bearer-auth.js'
import { ApiError, installErrorHandlers } from './errors.js'
import { DEFAULT_MAX_JSON_DEPTH, installJsonBodyParser } from './json-body-parser.js'
import { REDACTED, REDACT_PATHS, redactedUrl } from './log-redaction.js'
import { refuseQueryCredentials } from './query-credentials.js'

export interface RateLimitOptions {
  /** Requests per window and client (API key, else IP). Seed 001: 1000 per minute. */
  readonly max: number
  readonly timeWindowMs: number
}

export interface ApiServerOptions {
  /** A pino logger (or false for none). */
  readonly logger: FastifyBaseLogger | false
  readonly bodyLimit: number
  readonly trustProxy?: boolean | string | string[]
  readonly maxJsonDepth?: number
  /** Told every finished request (the duration histogram). */
  readonly observe: (method: string, route: string, statusCode: number, seconds: number) => void
}

// ajv-formats is CJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = (addFormatsModule as unknown as { default: FormatsPlugin }).default

/** Two validators: bodies exactly as sent, query strings and params coerced from text. */
function validatorCompiler(): (route: { schema: object; httpPart?: string }) => (data: unknown) => boolean {
  const options = { allErrors: true, strict: false, removeAdditional: false } as const
  const exact = new Ajv({ ...options, coerceTypes: false, useDefaults: false })
  const coercing = new Ajv({ ...options, coerceTypes: 'array', useDefaults: true })
  addFormats(exact, ['date-time', 'uuid'])
  addFormats(coercing, ['date-time', 'uuid'])
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema)
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The API's logger: the caller's, with credentials redacted from every structured field. */
function redactingLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  return (logger as unknown as { child(bindings: object, options: object): FastifyBaseLogger }).child(
    {},
    { redact: { paths: [...REDACT_PATHS], censor: REDACTED } },
  )
}

export function createApiServer(options: ApiServerOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: redactingLogger(options.logger) }),
    // fastify's request log lines print the URL as sent; ours (below) mask query credentials.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    // A forwarded request carries the client request's id, so both instances' logs show one id. The
    // header is the client's to choose, and it lands in every log line of the request: only a short
    // plain token is taken, anything else gets a fresh id.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
  }) as unknown as FastifyInstance
  app.setValidatorCompiler(validatorCompiler())
  installErrorHandlers(app, options.bodyLimit)
  installJsonBodyParser(app, options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH)
  app.addHook('onRequest', refuseQueryCredentials)
  // Request durations per route pattern, for every route (hooks on the root reach all children),
  // and one log line per request with credentials masked in its URL.
  app.addHook('onResponse', async (request, reply) => {
    // Forwarded by the ingest thread (ingest-edge.ts): the main thread's API logs and times it.
    if ((request.routeOptions.config as { forwarded?: boolean } | undefined)?.forwarded === true) return
    options.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    request.log.info(
      {
        http: {
          method: request.method,
          url: redactedUrl(request.url),
          remote_address: request.ip,
          status_code: reply.statusCode,
          response_ms: Math.round(reply.elapsedTime * 10) / 10,
        },
      },
      'request completed',
    )
  })
  return app
}

/** @fastify/rate-limit's settings for `limits`: keyed per valid API key, else per client address. */
export function rateLimitSettings(apiKeys: ApiKeys, limits: RateLimitOptions) {
  return {
    max: limits.max,
    timeWindow: limits.timeWindowMs,
    // Before the key check, so guessing keys is limited too; a valid key is its own bucket.
    keyGenerator: (request: FastifyRequest) => {
      const token = ApiKeys.token(request)
      return apiKeys.enabled && apiKeys.isValid(token) ? `key:${ApiKeys.fingerprint(token!)}` : `ip:${request.ip}`
    },
    errorResponseBuilder: (_request: FastifyRequest, context: { statusCode: number; max: number; after: string }) =>
      new ApiError(
        context.statusCode,
        'rate_limited',
        `rate limit exceeded: at most ${context.max} requests per ${limits.timeWindowMs / 1000} s; retry in ${context.after}`,
      ),
  }
}
