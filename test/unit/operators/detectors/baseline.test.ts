import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { mean, sampleStandardDeviation } from 'simple-statistics'
import { type RollingState, ewmaBaseline, rollingBaseline } from '../../../../operators/detectors/baseline.js'

test('rolling baseline: mean and std of exactly the last `size` values, also far from zero and after many wraps', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 20 }), fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: -1e9, max: 1e9, noNaN: true }), (size, xs, offset) => {
      const model = rollingBaseline(size)
      let s: RollingState = model.initial()
      for (const x of xs) s = model.update(s, x + offset)
      const last = xs.slice(-size).map((x) => x + offset)
      const st = model.stats(JSON.parse(JSON.stringify(s)) as RollingState)
      assert.equal(st.count, last.length)
      assert.ok(Math.abs(st.mean - mean(last)) <= 1e-6 * (1 + Math.abs(offset)))
      const sd = last.length < 2 ? 0 : sampleStandardDeviation(last)
      // Rounding error in the sum of squares grows with |mean| · spread (each sliding step loses about
      // epsilon · |mean| · change); the std inherits its square root.
      const spread = Math.max(...xs) - Math.min(...xs)
      const tolerance = 1e-6 * (1 + sd) + 1e-7 * spread + 1e-7 * Math.sqrt(Math.abs(offset) * spread)
      assert.ok(Math.abs(st.std - sd) <= tolerance, `std ${st.std} vs ${sd}`)
    }),
    { numRuns: 300 },
  )
})

test('EWMA baseline: converges on a constant and its bias-corrected std on noise is about right', () => {
  const model = ewmaBaseline(0.05)
  let s = model.initial()
  for (let i = 0; i < 500; i++) s = model.update(s, i % 2 === 0 ? 9 : 11)
  const st = model.stats(s)
  assert.ok(Math.abs(st.mean - 10) < 0.1)
  assert.ok(Math.abs(st.std - 1) < 0.1, `std ${st.std}`)
  assert.throws(() => ewmaBaseline(0), /alpha/)
})
