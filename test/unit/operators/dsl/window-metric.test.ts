import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { EMPTY_ACCUMULATOR, accumulate, emptyWindowIsZero, windowValue } from '../../../../operators/dsl/window-metric.js'

test('one accumulator gives every aggregate of the window', () => {
  fc.assert(
    // (+ 0: no -0, which max and JSON treat as 0 but strict equality does not)
    fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }).map((v) => v + 0), { maxLength: 50 }), fc.integer({ min: 1, max: 3_600_000 }), (values, sizeMs) => {
      const acc = values.reduce(accumulate, EMPTY_ACCUMULATOR)
      const sum = values.reduce((a, b) => a + b, 0)
      assert.equal(windowValue(acc, 'count', sizeMs), values.length)
      assert.equal(windowValue(acc, 'sum', sizeMs), sum)
      assert.equal(windowValue(acc, 'rate', sizeMs), sum / (sizeMs / 1000))
      if (values.length === 0) {
        assert.ok(Number.isNaN(windowValue(acc, 'mean', sizeMs)))
        assert.ok(Number.isNaN(windowValue(acc, 'max', sizeMs)))
      } else {
        assert.equal(windowValue(acc, 'mean', sizeMs), sum / values.length)
        assert.equal(windowValue(acc, 'max', sizeMs), Math.max(...values))
      }
      // The accumulator survives the JSON store serde unchanged (no -Infinity in it).
      assert.deepEqual(JSON.parse(JSON.stringify(acc)), acc)
    }),
    { numRuns: 100 },
  )
  assert.deepEqual(['mean', 'sum', 'count', 'max', 'rate'].map((a) => emptyWindowIsZero(a as never)), [false, true, true, false, true])
})
