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

export type AuthRefusal =
  | { readonly reason: 'missing' | 'invalid'; readonly message: string }
  | { readonly reason: 'too_many_failures'; readonly retryAfterSeconds: number; readonly message: string }

export class ApiKeys {
  private readonly digests: readonly Buffer[]

  constructor(keys: readonly string[]) {
    keys.forEach((key, i) => {
      if (typeof key !== 'string' || key.length < 16)
        throw new Error(`apiKeys[${i}]: an API key must be a string of at least 16 characters; generate one with \`openssl rand -hex 32\``)
    })
    this.digests = keys.map(digest)
  }

  get enabled(): boolean {
    return this.digests.length > 0
  }

  /** The bearer token of a request, or null when there is none. */
  static token(request: FastifyRequest): string | null {
    return ApiKeys.bearer(request.headers.authorization)
  }

  /** The token of an Authorization value (an HTTP header, gRPC metadata), or null. */
  static bearer(header: unknown): string | null {
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
   * Why a caller with `token` from `address` is refused, or null when it is let in. Every receiver
   * (HTTP hooks, OTLP/gRPC) asks this, so the refusal rules and the failed-authentication budget
   * are one: an address past its budget is refused whatever key it sends, so a guesser learns
   * nothing more until the window ends.
   */
  refusal(token: string | null, address: string, failures?: AuthFailureLimit): AuthRefusal | null {
    const retryAfterSeconds = failures?.retryAfterSeconds(address) ?? 0
    if (retryAfterSeconds > 0)
      return {
        reason: 'too_many_failures',
        retryAfterSeconds,
        message: `too many failed authentications from this address; retry in ${retryAfterSeconds} s with a valid key (Authorization: Bearer <key>)`,
      }
    if (this.isValid(token)) return null
    failures?.recordFailure(address)
    return token === null
      ? { reason: 'missing', message: 'an API key is required: send Authorization: Bearer <key>' }
      : { reason: 'invalid', message: 'the API key is not valid' }
  }

  /** An onRequest hook answering 401 (with WWW-Authenticate) or 429 (with Retry-After) to a refusal. */
  hook(failures?: AuthFailureLimit): onRequestAsyncHookHandler {
    return async (request) => {
      const refused = this.refusal(ApiKeys.token(request), request.ip, failures)
      if (refused === null) return
      if (refused.reason === 'too_many_failures')
        throw new ApiError(429, 'too_many_failed_authentications', refused.message, undefined, { 'retry-after': String(refused.retryAfterSeconds) })
      throw new ApiError(401, 'unauthorized', refused.message, undefined, {
        'www-authenticate': refused.reason === 'missing' ? 'Bearer realm="sentinel"' : 'Bearer realm="sentinel", error="invalid_token"',
      })
    }
  }
}
