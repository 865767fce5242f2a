import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CircuitBreaker, type CircuitState } from '../../../../../apps/sentinel/delivery/circuit-breaker.js'
import { backoffDelay, isRetryableStatus, retryAfterMs } from '../../../../../apps/sentinel/delivery/retry-policy.js'

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms) }
}

describe('circuit breaker', () => {
  test('closed → open after N consecutive failures → half-open after the cool-down, one probe → closed', () => {
    const c = clock()
    const changes: CircuitState[] = []
    const breaker = new CircuitBreaker({ failureThreshold: 3, successThreshold: 1, coolDownMs: 30_000 }, c.now, (s) => changes.push(s))
    for (let i = 0; i < 2; i++) breaker.failure(breaker.acquire()!)
    breaker.success(breaker.acquire()!) // a success resets the count
    for (let i = 0; i < 2; i++) breaker.failure(breaker.acquire()!)
    assert.equal(breaker.state, 'closed')
    breaker.failure(breaker.acquire()!)
    assert.equal(breaker.state, 'open')
    assert.equal(breaker.acquire(), null)
    c.advance(29_999)
    assert.equal(breaker.acquire(), null)
    c.advance(1)
    assert.equal(breaker.state, 'half-open')
    const probe = breaker.acquire()
    assert.ok(probe)
    assert.equal(breaker.acquire(), null, 'one probe at a time')
    breaker.success(probe)
    assert.equal(breaker.state, 'closed')
    assert.deepEqual(changes, ['open', 'half-open', 'closed'])
  })

  test('a failed probe opens it again for a new cool-down', () => {
    const c = clock()
    const breaker = new CircuitBreaker({ failureThreshold: 1, successThreshold: 2, coolDownMs: 1_000 }, c.now)
    breaker.failure(breaker.acquire()!)
    c.advance(1_000)
    breaker.failure(breaker.acquire()!)
    assert.equal(breaker.state, 'open')
    c.advance(999)
    assert.equal(breaker.state, 'open')
    c.advance(1)
    // successThreshold 2: two successful probes, one after the other, close it.
    breaker.success(breaker.acquire()!)
    assert.equal(breaker.state, 'half-open')
    breaker.success(breaker.acquire()!)
    assert.equal(breaker.state, 'closed')
  })

  test('results of calls admitted before a state change are ignored', () => {
    const c = clock()
    const breaker = new CircuitBreaker({ failureThreshold: 2, successThreshold: 1, coolDownMs: 1_000 }, c.now)
    const straggler = breaker.acquire()!
    breaker.failure(breaker.acquire()!)
    breaker.failure(breaker.acquire()!)
    assert.equal(breaker.state, 'open')
    breaker.success(straggler)
    assert.equal(breaker.state, 'open', 'a late success of the closed period does not close it')
    c.advance(1_000)
    const probe = breaker.acquire()!
    breaker.release(probe)
    assert.ok(breaker.acquire(), 'a released probe frees the half-open slot')
  })
})

describe('retry policy', () => {
  const settings = { maxAttempts: 5, initialBackoffMs: 1_000, maxBackoffMs: 60_000 }

  test('full jitter: uniform in [0, min(max, base·2^(n-1))]', () => {
    assert.equal(backoffDelay(1, settings, () => 0.999999), 999)
    assert.equal(backoffDelay(3, settings, () => 0.5), 2_000)
    assert.equal(backoffDelay(20, settings, () => 0.5), 30_000)
    assert.equal(backoffDelay(4, settings, () => 0), 0)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
        const d = backoffDelay(n, settings, () => r)
        return d >= 0 && d < Math.min(60_000, 1_000 * 2 ** (n - 1))
      }),
      { numRuns: 200 },
    )
  })

  test('408, 429 and 5xx are retried; other 4xx are not', () => {
    assert.deepEqual([400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504].filter(isRetryableStatus), [408, 429, 500, 502, 503, 504])
  })

  test('Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-23T08:00:00Z')
    assert.equal(retryAfterMs('7', now), 7_000)
    assert.equal(retryAfterMs('Mon, 23 Nov 2026 08:00:30 GMT', now), 30_000)
    assert.equal(retryAfterMs('Mon, 23 Nov 2026 07:00:00 GMT', now), 0)
    assert.equal(retryAfterMs('soon', now), null)
    assert.equal(retryAfterMs(null, now), null)
  })
})
