/**
 * The API's application/json body parser. Three checks before JSON.parse, each answered 400 because
 * resending the same body can never succeed (a 5xx would invite the client to retry forever):
 * - invalid UTF-8 is refused, not replaced with U+FFFD: a replaced id or prompt would be accepted
 *   silently as different data than was sent;
 * - nesting deeper than `maxDepth` is refused by a bracket count (schemas/json-depth.ts), before
 *   anything recursive (serializers, validators) walks it and overflows the stack;
 * - JSON.parse's own message says where a body breaks, which a 1000-event batch needs.
 * The size limit is fastify's bodyLimit, checked while the body is read.
 */
import type { FastifyInstance } from 'fastify'
import { jsonTextDepth } from '../../../schemas/json-depth.js'
import { ApiError } from './errors.js'

export const DEFAULT_MAX_JSON_DEPTH = 64

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

export function installJsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer
    if (bytes.length === 0) return done(new ApiError(400, 'malformed_json', 'the body is empty but Content-Type is application/json; send a JSON document'), undefined)
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      return done(new ApiError(400, 'invalid_utf8', 'the request body is not valid UTF-8; encode the JSON document as UTF-8'), undefined)
    }
    if (jsonTextDepth(text, maxDepth) > maxDepth) {
      return done(new ApiError(400, 'too_deeply_nested', `the request body is nested more than ${maxDepth} levels deep; flatten it (event context is limited further, see the TelemetryEvent schema)`), undefined)
    }
    try {
      done(null, JSON.parse(text))
    } catch (err) {
      done(new ApiError(400, 'malformed_json', `the request body is not valid JSON: ${(err as Error).message}`), undefined)
    }
  })
}
