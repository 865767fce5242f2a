import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EwmaDeviationDetector } from '../../../../operators/detectors/ewma-deviation.js'
import { gaussian, mulberry32 } from './prng.js'

test('a 60% jump over the average is flagged once the average is warm; small noise is not', () => {
  const d = new EwmaDeviationDetector({ alpha: 0.1, threshold: 0.5, direction: 'up', minHistory: 10 })
  const g = gaussian(mulberry32(9))
  let state = d.initial()
  const flagged: number[] = []
  for (let i = 0; i < 200; i++) {
    const v = i === 150 ? 160 : 100 + 5 * g()
    const r = d.step(state, v)
    state = r.state
    if (r.verdict.anomalous) flagged.push(i)
    if (i === 150) {
      assert.ok(Math.abs(r.verdict.deviation - 0.6) < 0.1)
      assert.equal(r.verdict.severity, 'low')
    }
  }
  assert.deepEqual(flagged, [150])
})

test('stationary noise (sd 10% of the mean) against a 30% bound: false-alarm rate as the normal tail predicts', () => {
  // P(X > 1.3 m) with sd 0.1 m is P(Z > 3) = 0.00135; the EWMA mean's own noise adds a little.
  const d = new EwmaDeviationDetector({ alpha: 0.02, threshold: 0.3, direction: 'up', minHistory: 50 })
  const g = gaussian(mulberry32(10))
  let state = d.initial()
  let alarms = 0
  let judged = 0
  for (let i = 0; i < 40_000; i++) {
    const r = d.step(state, 100 + 10 * g())
    state = r.state
    if (r.verdict.ready) judged++
    if (r.verdict.anomalous) alarms++
  }
  const rate = alarms / judged
  assert.ok(rate > 0.0008 && rate < 0.0025, `false-alarm rate ${rate}`)
})

test('an anomalous window enters the average clipped to mean · (1 + threshold)', () => {
  const d = new EwmaDeviationDetector({ alpha: 0.5, threshold: 0.5, direction: 'both', minHistory: 1 })
  let state = d.step(d.initial(), 100).state
  const r = d.step(state, 1000)
  assert.equal(r.verdict.anomalous, true)
  state = r.state
  assert.equal(state.mean, 100 + 0.5 * (150 - 100))
})
