/**
 * Credentials in a query string end up in proxy logs, browser history and Referer headers, where
 * nobody can take them back; the API refuses them (400) instead of honouring them, so clients notice
 * at once rather than after the key has leaked.
 */
import type { onRequestAsyncHookHandler } from 'fastify'
import { ApiError } from './errors.js'
import { CREDENTIAL_QUERY_PARAMS } from './log-redaction.js'

export const refuseQueryCredentials: onRequestAsyncHookHandler = async (request) => {
  const query = request.query
  if (typeof query !== 'object' || query === null) return
  const names = Object.keys(query).filter((name) => CREDENTIAL_QUERY_PARAMS.has(name.toLowerCase()))
  if (names.length > 0) {
    throw new ApiError(400, 'credentials_in_query', `credentials are not accepted in the query string (${names.join(', ')}); send Authorization: Bearer <key> instead, and revoke a key that was sent in a URL`)
  }
}
