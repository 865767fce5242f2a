/**
 * What the API's logs must never contain: credentials. pino's redaction covers the structured
 * fields (headers, bodies); URLs are written by the API's own request logging with credential-like
 * query parameters masked (request-logging in sentinel-api.ts), because a URL is one string that
 * path-based redaction cannot reach into. Query-string credentials are also refused outright
 * (query-credentials.ts); masking them here covers the log line of that very refusal.
 */

/** Query parameter names that carry credentials (lower case). `key` is not one: it names a record key. */
export const CREDENTIAL_QUERY_PARAMS: ReadonlySet<string> = new Set(['api_key', 'apikey', 'api-key', 'x-api-key', 'access_token', 'token', 'auth', 'authorization', 'password', 'secret', 'client_secret', 'bearer'])

const SECRET_FIELDS = ['authorization', 'password', 'secret', 'token', 'api_key', 'apiKey', 'apikey', 'access_token', 'client_secret', 'cookie']

export const REDACT_PATHS: readonly string[] = [
  ...['req', 'request', 'res', 'reply'].flatMap((owner) => [`${owner}.headers.authorization`, `${owner}.headers["x-api-key"]`, `${owner}.headers.cookie`, `${owner}.headers["set-cookie"]`]),
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  ...SECRET_FIELDS.flatMap((field) => [`body.${field}`, `*.body.${field}`, `*.${field}`]),
]

export const REDACTED = '[redacted]'

/** `url` with the values of credential-like query parameters replaced. */
export function redactedUrl(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const name = eq < 0 ? pair : pair.slice(0, eq)
      let decoded: string
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '))
      } catch {
        decoded = name
      }
      return CREDENTIAL_QUERY_PARAMS.has(decoded.toLowerCase()) ? `${name}=${REDACTED}` : pair
    })
  return `${url.slice(0, q)}?${params.join('&')}`
}
