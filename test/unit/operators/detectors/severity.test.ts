import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { anomalyScore, anomalySeverity, severityOf } from '../../../../operators/detectors/severity.js'

test('score is 0 at no deviation, 0.5 at the threshold, r / (1 + r) beyond', () => {
  assert.equal(anomalyScore(0, 3), 0)
  assert.equal(anomalyScore(3, 3), 0.5)
  assert.equal(anomalyScore(-9, 3), 0.75)
  assert.equal(anomalyScore(Number.POSITIVE_INFINITY, 3), 1)
})

test('score stays in [0, 1] and grows with |deviation|', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0.01, max: 100, noNaN: true }), (a, b, t) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      const s = anomalyScore(lo, t)
      return s >= 0 && s <= 1 && s <= anomalyScore(hi, t)
    }),
    { numRuns: 200 },
  )
})

test('severity by multiples of the threshold: [1, 1.5) low, [1.5, 2) medium, [2, 3) high, 3+ critical', () => {
  assert.deepEqual([2.9, 3, 4.4, 4.5, 5.9, 6, 8.9, 9, 100].map((z) => severityOf(z, 3)), [undefined, 'low', 'low', 'medium', 'medium', 'high', 'high', 'critical', 'critical'])
  assert.equal(severityOf(-6, 3), 'high')
})

test("our levels fold onto the seed's info / warning / critical", () => {
  assert.deepEqual((['low', 'medium', 'high', 'critical'] as const).map(anomalySeverity), ['info', 'warning', 'warning', 'critical'])
})
