/**
 * When a failed delivery attempt is tried again, and after how long.
 *
 * Backoff is exponential with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the n-th wait is uniform in [0, min(maxBackoff, initialBackoff · 2^(n-1))], so many dispatchers
 * retrying one recovering receiver spread out instead of arriving together.
 */
import type { RetrySettings } from './receivers-config.js'

/** Wait before attempt `failed + 1`, after `failed` (≥ 1) failed attempts. */
export function backoffDelay(failed: number, settings: RetrySettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** Math.max(0, failed - 1))
  return Math.floor(random() * ceiling)
}

/**
 * An HTTP status worth retrying: 408 (request timeout), 429 (too many requests) and 5xx. Any other
 * 4xx says the request itself is wrong (bad payload, bad key, unknown route): sending it again
 * cannot help.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

/** Statuses whose Retry-After header is honoured. */
export function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503
}

/** Retry-After in milliseconds (delta-seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(value: string | null, nowMs: number = Date.now()): number | null {
  if (value === null) return null
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs)
}
