/**
 * Signing of generic webhook deliveries, in the manner of Stripe and GitHub:
 *
 *   X-Sentinel-Timestamp: <t>                      Unix time in whole seconds when the request was signed
 *   X-Sentinel-Signature: sha256=<hex>             hex(HMAC-SHA256(key = secret, message = "<t>.<body>"))
 *
 * `<body>` is the exact bytes of the request body (UTF-8 JSON), `.` a literal full stop. Signing the
 * timestamp with the body stops a captured request from being replayed later: a receiver checks the
 * signature with a constant-time comparison, then that `t` is within its tolerance of its own clock
 * (`verifyWebhookSignature` does both). Verify against the raw body, before any JSON parsing.
 * A retry of the same delivery is signed again with a fresh timestamp.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'X-Sentinel-Signature'
export const TIMESTAMP_HEADER = 'X-Sentinel-Timestamp'
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000

/** hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function webhookSignature(body: string | Buffer, timestampSeconds: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex')
}

/** The two headers of a signed delivery of `body` at `nowMs`. */
export function signWebhook(body: string | Buffer, secret: string, nowMs = Date.now()): Record<string, string> {
  const t = Math.floor(nowMs / 1000)
  return { [TIMESTAMP_HEADER]: String(t), [SIGNATURE_HEADER]: `sha256=${webhookSignature(body, t, secret)}` }
}

/** Request headers as a receiver has them: a fetch `Headers`, or node's (lower-cased) header object. */
export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>

export type WebhookVerification =
  | { readonly ok: true; readonly timestampMs: number }
  | { readonly ok: false; readonly reason: 'missing_signature' | 'missing_timestamp' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' }

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const lower = name.toLowerCase()
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== lower) continue
    return Array.isArray(value) ? value[0] : (value as string | undefined)
  }
  return undefined
}

/**
 * Checks a delivery as a receiver would: the signature over the exact body and timestamp, then the
 * timestamp's distance from `nowMs` (either way, for clock skew) against `toleranceMs`.
 */
export function verifyWebhookSignature(body: string | Buffer, headers: HeaderSource, secret: string, toleranceMs = DEFAULT_SIGNATURE_TOLERANCE_MS, nowMs = Date.now()): WebhookVerification {
  const signature = header(headers, SIGNATURE_HEADER)
  if (signature === undefined || !signature.startsWith('sha256=')) return { ok: false, reason: 'missing_signature' }
  const timestamp = header(headers, TIMESTAMP_HEADER)
  if (timestamp === undefined) return { ok: false, reason: 'missing_timestamp' }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' }
  const t = Number(timestamp)
  const expected = Buffer.from(webhookSignature(body, t, secret), 'hex')
  const given = Buffer.from(signature.slice('sha256='.length), 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' }
  if (Math.abs(nowMs - t * 1000) > toleranceMs) return { ok: false, reason: 'stale_timestamp' }
  return { ok: true, timestampMs: t * 1000 }
}
