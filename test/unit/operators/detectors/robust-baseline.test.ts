import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { quantile } from 'simple-statistics'
import { type BaselineModel, rollingBaseline } from '../../../../operators/detectors/baseline.js'
import { NORMAL_IQR, robustRollingBaseline } from '../../../../operators/detectors/robust-baseline.js'
import { ZScoreDetector } from '../../../../operators/detectors/zscore.js'
import { gaussian, mulberry32 } from './prng.js'

test('median and IQR / 1.349 of the last `size` values, through the ring wrapping', () => {
  const b = robustRollingBaseline(5)
  let s = b.initial()
  for (const v of [10, 1, 7, 3, 5, 100, 2]) s = b.update(s, v)
  // The window holds 7, 3, 5, 100, 2: median 5, quartiles 3 and 7.
  const stats = b.stats(s)
  assert.equal(stats.mean, 5)
  assert.equal(stats.count, 5)
  assert.ok(Math.abs(stats.std - 4 / NORMAL_IQR) < 1e-12)
})

test('the sorted copy always matches the ring (random values, sizes and repeats)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 4, max: 12 }), fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 60 }), (size, values) => {
      const b = robustRollingBaseline(size)
      let s = b.initial()
      for (const v of values) {
        s = b.update(s, v)
        assert.deepEqual(s.sorted, [...s.values].sort((x, y) => x - y))
      }
      if (values.length > 0) assert.equal(b.stats(s).mean, quantile([...s.values], 0.5))
    }),
  )
})

test('dense spikes: with a fifth of the window outliers the robust spread stays near 1.5 and every spike is still caught', () => {
  const g = gaussian(mulberry32(7))
  const detect = (robust: boolean) => {
    const baseline = (robust ? robustRollingBaseline(500) : rollingBaseline(500)) as BaselineModel<unknown>
    const z = new ZScoreDetector({ baseline, threshold: 5, direction: 'both', minHistory: 100 })
    let s = z.initial()
    let caught = 0
    let spikes = 0
    for (let i = 0; i < 3000; i++) {
      // From row 500 on, every fifth row is a spike of 12 spreads: a burst that outlasts the window.
      const spike = i >= 500 && i % 5 === 0
      if (spike) spikes++
      const r = z.step(s, 50 + g() + (spike ? 12 : 0))
      s = r.state
      if (spike && r.verdict.anomalous) caught++
    }
    return { caught, spikes, spread: z.config.baseline.stats(s.baseline).std }
  }
  const robust = detect(true)
  const plain = detect(false)
  // Quartiles of 0.8 N(0, 1) + 0.2 at +12: -0.49 and 1.53, so IQR / 1.349 = 1.50.
  assert.ok(robust.spread < 1.6, `robust spread ${robust.spread}`)
  assert.ok(plain.spread > 2, `mean/std spread ${plain.spread}`)
  assert.ok(robust.caught >= 0.95 * robust.spikes, `robust caught ${robust.caught} of ${robust.spikes}`)
  // The mean/std baseline learns the winsorised spikes as spread and stops seeing them.
  assert.ok(plain.caught < 0.5 * plain.spikes, `mean/std caught ${plain.caught} of ${plain.spikes}`)
})

test('shiftLevel moves the centre and keeps the spread, for both rolling baselines', () => {
  const g = gaussian(mulberry32(3))
  for (const b of [robustRollingBaseline(200), rollingBaseline(200)] as { initial(): unknown; update(s: unknown, v: number): unknown; stats(s: unknown): { mean: number; std: number; count: number }; shiftLevel(s: unknown, d: number): unknown }[]) {
    let s = b.initial()
    for (let i = 0; i < 300; i++) s = b.update(s, 10 + g())
    const before = b.stats(s)
    s = b.shiftLevel(s, 25)
    const after = b.stats(s)
    assert.ok(Math.abs(after.mean - before.mean - 25) < 1e-9)
    assert.ok(Math.abs(after.std - before.std) < 1e-9)
    // Values keep flowing through the ring afterwards.
    s = b.update(s, 35)
    assert.equal(b.stats(s).count, 200)
  }
})

test('non-finite values are ignored, not stored where they could never be found again', () => {
  const b = robustRollingBaseline(4)
  let s = b.initial()
  for (const v of [1, Number.NaN, 2, 3, Number.POSITIVE_INFINITY, 4, 5]) s = b.update(s, v)
  assert.deepEqual(s.sorted, [2, 3, 4, 5])
})
