/**
 * Every error the API answers is JSON `{ error, message, details? }`: `error` a stable machine code,
 * `message` a sentence for a person naming what was wrong and how to fix it.
 */
import type { FastifyError, FastifyInstance } from 'fastify'

export interface ErrorBody {
  readonly error: string
  readonly message: string
  readonly details?: unknown
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }

  body(): ErrorBody {
    return this.details === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, details: this.details }
  }
}

/** Seconds a client should wait before retrying while state is moving between instances. */
export const RETRY_AFTER_SECONDS = 5

export const unavailable = (message: string, details?: unknown): ApiError => new ApiError(503, 'unavailable', message, details, { 'retry-after': String(RETRY_AFTER_SECONDS) })

/** The JSON schema of an error body (for route response schemas and the OpenAPI document). */
export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'a stable machine-readable code' },
    message: { type: 'string' },
    details: {},
  },
} as const

const FASTIFY_CODES: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', message: 'the request body exceeds the size limit' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'malformed_json', message: "the body is empty but Content-Type is application/json; send a JSON document" },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'malformed_json', message: 'the request body is not valid JSON' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'unsupported Content-Type; send application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'bad_request', message: 'the body size does not match Content-Length' },
}

/** Installs the JSON error and not-found handlers on the root instance. */
export function installErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value)
      return reply.code(err.statusCode).send(err.body())
    }
    if (err.validation) {
      const where = err.validationContext ?? 'request'
      const details = err.validation.map((v) => ({ path: `${where}${v.instancePath.replace(/\//g, '.')}`, message: v.message ?? 'is invalid', params: v.params }))
      return reply.code(400).send({ error: 'bad_request', message: `invalid ${where}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details })
    }
    const known = err.code === undefined ? undefined : FASTIFY_CODES[err.code]
    if (known !== undefined) {
      const message = known.code === 'payload_too_large' ? `${known.message} (${bodyLimit} bytes); split the batch` : known.message
      return reply.code(err.statusCode ?? 400).send({ error: known.code, message })
    }
    const status = err.statusCode ?? 500
    if (status >= 500) {
      request.log.error({ err }, 'request failed')
      return reply.code(status).send({ error: 'internal', message: 'internal error; see the server log' })
    }
    return reply.code(status).send({ error: 'bad_request', message: err.message })
  })
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }))
}
