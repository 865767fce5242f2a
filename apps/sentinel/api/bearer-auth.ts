/**
 * API keys as bearer tokens. Keys are compared as SHA-256 digests with `timingSafeEqual`, against
 * every configured key without stopping at the first match, so neither a key's length nor its
 * position in the list shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { AuthFailureLimit } from './auth-failure-limit.js'
import { ApiError } from './errors.js'

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

export class ApiKeys {
  private readonly digests: readonly Buffer[]

  constructor(keys: readonly string[]) {
    keys.forEach((key, i) => {
      if (typeof key !== 'string' || key.length < 16) throw new Error(`apiKeys[${i}]: an API key must be a string of at least 16 characters; generate one with \`openssl rand -hex 32\``)
    })
    this.digests = keys.map(digest)
  }

  get enabled(): boolean {
    return this.digests.length > 0
  }

  /** The bearer token of a request, or null when there is none. */
  static token(request: FastifyRequest): string | null {
    const header = request.headers.authorization
    if (typeof header !== 'string') return null
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
    return match ? match[1]! : null
  }

  /** A stand-in for a key where one must be kept (a rate-limit bucket), so the key itself is not. */
  static fingerprint(token: string): string {
    return digest(token).toString('base64url').slice(0, 22)
  }

  isValid(token: string | null): boolean {
    if (token === null) return false
    const presented = digest(token)
    let ok = false
    for (const known of this.digests) ok = timingSafeEqual(presented, known) || ok
    return ok
  }

  /**
   * An onRequest hook answering 401 (with WWW-Authenticate) to requests without a valid key, and
   * 429 (with Retry-After) to an address past its failed-authentication budget, whatever key it
   * sends then: a guesser learns nothing more until the window ends.
   */
  hook(failures?: AuthFailureLimit): onRequestAsyncHookHandler {
    return async (request) => {
      const retryAfter = failures?.retryAfterSeconds(request.ip) ?? 0
      if (retryAfter > 0) {
        throw new ApiError(429, 'too_many_failed_authentications', `too many failed authentications from this address; retry in ${retryAfter} s with a valid key (Authorization: Bearer <key>)`, undefined, { 'retry-after': String(retryAfter) })
      }
      const token = ApiKeys.token(request)
      if (this.isValid(token)) return
      failures?.recordFailure(request.ip)
      const missing = token === null
      throw new ApiError(
        401,
        'unauthorized',
        missing ? 'an API key is required: send Authorization: Bearer <key>' : 'the API key is not valid',
        undefined,
        { 'www-authenticate': missing ? 'Bearer realm="sentinel"' : 'Bearer realm="sentinel", error="invalid_token"' },
      )
    }
  }
}
