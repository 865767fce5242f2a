import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseIsoInstant } from '../../../schemas/iso-instant.js'

/** NaN-aware equality with Date.parse, the contract. */
function assertSameAsDateParse(text: string): void {
  const expected = Date.parse(text)
  const actual = parseIsoInstant(text)
  assert.ok(Object.is(actual, expected), `${JSON.stringify(text)}: parseIsoInstant ${actual}, Date.parse ${expected}`)
}

test('toISOString output over the whole range of years parses as Date.parse does', () => {
  // Years 0000-9999: the four-digit form, leap years and the Gregorian century rules included.
  fc.assert(
    fc.property(fc.integer({ min: Date.parse('0000-01-01T00:00:00.000Z'), max: Date.parse('9999-12-31T23:59:59.999Z') }), (ms) => {
      const text = new Date(ms).toISOString()
      if (text.length !== 24) return
      assertSameAsDateParse(text)
      assertSameAsDateParse(text.slice(0, 19) + 'Z')
      assert.equal(parseIsoInstant(text), ms)
    }),
    { numRuns: 20_000 },
  )
})

test('strings near the fast form, valid or not, parse as Date.parse does', () => {
  const edges = [
    '2024-02-29T12:00:00Z',
    '2023-02-29T12:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-12-31T23:59:59.999Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01t00:00:00Z',
    '2026-01-01T00:00:00z',
    '2026-01-01T00:00:00.5Z',
    '2026-01-01T00:00:00.123456Z',
    '2026-01-01T00:00:00+02:00',
    '2026-01-01T00:00:00',
    '2026-01-01',
    '2026-1a-01T00:00:00Z',
    '2026-01-01T00:00:00.12aZ',
    ' 2026-01-01T00:00:00Z',
    '2026/01/01T00:00:00.000Z',
    'Thu, 01 Jan 2026 00:00:00 GMT',
    '',
  ]
  for (const text of edges) assertSameAsDateParse(text)
  // Each character of a valid instant replaced by any printable one.
  const base = '2026-03-02T07:04:05.678Z'
  fc.assert(
    fc.property(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 32, max: 126 }), (at, code) => {
      assertSameAsDateParse(base.slice(0, at) + String.fromCharCode(code) + base.slice(at + 1))
    }),
    { numRuns: 5_000 },
  )
})
