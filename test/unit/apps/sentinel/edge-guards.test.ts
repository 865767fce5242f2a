/** The small guards behind the API's edge limits, on their own. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AuthFailureLimit } from '../../../../apps/sentinel/api/auth-failure-limit.js'
import { redactedUrl } from '../../../../apps/sentinel/api/log-redaction.js'
import { RecentEventIds } from '../../../../apps/sentinel/api/recent-event-ids.js'
import { BoundedLabelValues } from '../../../../apps/sentinel/bounded-label-values.js'
import { DEFAULT_EVENT_TIME_BOUNDS, eventTimeVerdict } from '../../../../apps/sentinel/event-time-bounds.js'
import { RateLimitedWarning } from '../../../../runtime/rate-limited-warning.js'
import { jsonTextDepth, jsonValueDepth } from '../../../../schemas/json-depth.js'

const MIN = 60_000
const HOUR = 60 * MIN

test('eventTimeVerdict: bounds are inclusive, defaults 5 min ahead and 24 h behind', () => {
  const now = Date.UTC(2026, 5, 1)
  assert.deepEqual(DEFAULT_EVENT_TIME_BOUNDS, { maxAheadMs: 5 * MIN, maxBehindMs: 24 * HOUR })
  assert.equal(eventTimeVerdict(now, now), 'ok')
  assert.equal(eventTimeVerdict(now + 5 * MIN, now), 'ok')
  assert.equal(eventTimeVerdict(now + 5 * MIN + 1, now), 'too_far_ahead')
  assert.equal(eventTimeVerdict(now + HOUR, now), 'too_far_ahead')
  assert.equal(eventTimeVerdict(now - 24 * HOUR, now), 'ok')
  assert.equal(eventTimeVerdict(now - 24 * HOUR - 1, now), 'too_far_behind')
  assert.equal(eventTimeVerdict(now + 2000, now, { maxAheadMs: 1000, maxBehindMs: 1000 }), 'too_far_ahead')
})

describe('RecentEventIds', () => {
  test('remembers ids within the horizon and forgets them after it', () => {
    const ids = new RecentEventIds({ maxIds: 10, horizonMs: 1000 })
    ids.remember(['a', 'b'], 0)
    assert.equal(ids.has('a', 999), true)
    ids.remember(['c'], 500)
    assert.equal(ids.has('a', 1001), false)
    assert.equal(ids.has('c', 1001), true)
    assert.equal(ids.size, 1)
  })

  test('is capped: past maxIds the oldest go first', () => {
    const ids = new RecentEventIds({ maxIds: 3, horizonMs: HOUR })
    ids.remember(['a', 'b', 'c', 'd'], 0)
    assert.equal(ids.size, 3)
    assert.deepEqual(['a', 'b', 'c', 'd'].map((id) => ids.has(id, 1)), [false, true, true, true])
  })
})

test('BoundedLabelValues: the first max values, then other, warned once', () => {
  const warnings: unknown[] = []
  const labels = new BoundedLabelValues('m{l}', 2, { warn: (fields) => void warnings.push(fields) })
  assert.deepEqual(['a', 'b', 'c', 'a', 'd', 'b'].map((v) => labels.value(v)), ['a', 'b', 'other', 'a', 'other', 'b'])
  assert.deepEqual(warnings, [{ label: 'm{l}', max: 2 }])
})

test('RateLimitedWarning: one line per interval, with the count suppressed', () => {
  let now = 0
  const lines: Record<string, unknown>[] = []
  const warning = new RateLimitedWarning({ warn: (fields) => void lines.push(fields) }, 1000, () => now)
  for (let i = 0; i < 5; i++) warning.warn({ i }, 'w')
  now = 1000
  warning.warn({ i: 5 }, 'w')
  assert.deepEqual(lines, [{ i: 0 }, { i: 5, suppressed: 4 }])
})

test('AuthFailureLimit: blocks an address past max failures until its window ends', () => {
  let now = 0
  const limit = new AuthFailureLimit({ max: 2, timeWindowMs: 10_000, maxAddresses: 2 }, () => now)
  limit.recordFailure('a')
  assert.equal(limit.retryAfterSeconds('a'), 0)
  limit.recordFailure('a')
  assert.equal(limit.retryAfterSeconds('a'), 10)
  assert.equal(limit.retryAfterSeconds('b'), 0)
  now = 9_500
  assert.equal(limit.retryAfterSeconds('a'), 1)
  now = 10_000
  assert.equal(limit.retryAfterSeconds('a'), 0)
  for (const address of ['x', 'y', 'z']) limit.recordFailure(address)
  assert.ok((limit as unknown as { windows: Map<string, unknown> }).windows.size <= 2)
})

test('redactedUrl masks credential-like query parameters only', () => {
  assert.equal(redactedUrl('/a?api_key=s3cret&severity=critical'), '/a?api_key=[redacted]&severity=critical')
  assert.equal(redactedUrl('/a?Access_Token=x&key=chatbot'), '/a?Access_Token=[redacted]&key=chatbot')
  assert.equal(redactedUrl('/a?api%5Fkey=x'), '/a?api%5Fkey=[redacted]')
  assert.equal(redactedUrl('/a'), '/a')
})

test('JSON depth, without recursion, of values and of text', () => {
  assert.equal(jsonValueDepth(1), 0)
  assert.equal(jsonValueDepth({ a: [1, { b: 2 }] }), 3)
  assert.equal(jsonTextDepth('{"a":[1,{"b":2}]}'), 3)
  assert.equal(jsonTextDepth('{"a":"[[[[\\"{{{"}'), 1)
  // Runs of backslashes before a quote: an odd run escapes it, an even run does not.
  assert.equal(jsonTextDepth('{"a":"x\\\\"}'), 1)
  assert.equal(jsonTextDepth('{"a":"x\\\\\\"[{"}'), 1)
  assert.equal(jsonTextDepth('[{"a":"\\\\",[["b"]]}]'), 4)
  assert.equal(jsonTextDepth('["unterminated [[['), 1)
  // Against a character-by-character count, on text made of the characters that matter.
  const reference = (text: string): number => {
    let depth = 0
    let deepest = 0
    let inString = false
    for (let i = 0; i < text.length; i++) {
      const c = text[i]
      if (inString) {
        if (c === '\\') i++
        else if (c === '"') inString = false
      } else if (c === '"') inString = true
      else if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth)
      else if (c === '}' || c === ']') depth--
    }
    return deepest
  }
  let seed = 7
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  for (let n = 0; n < 2000; n++) {
    const text = Array.from({ length: 1 + Math.floor(next() * 40) }, () => '"\\[]{}a'[Math.floor(next() * 7)]).join('')
    assert.equal(jsonTextDepth(text), reference(text), text)
  }
  const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000)
  assert.equal(jsonTextDepth(deep, 64), 65)
  let value: unknown = 1
  for (let i = 0; i < 200_000; i++) value = [value]
  assert.equal(jsonValueDepth(value), 200_000)
})
