import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rollingBaseline } from '../../../../operators/detectors/baseline.js'
import { checkStdConfidence, stdUpperBoundFactor } from '../../../../operators/detectors/std-bound.js'
import { ZScoreDetector } from '../../../../operators/detectors/zscore.js'
import { gaussian, mulberry32 } from './prng.js'

test('the factor is sqrt((n - 1) / chi2) from the table, shrinking as samples grow; untabled degrees use the row below', () => {
  assert.ok(Math.abs(stdUpperBoundFactor(12, 0.9) - Math.sqrt(11 / 5.58)) < 1e-9)
  assert.ok(Math.abs(stdUpperBoundFactor(45, 0.9) - Math.sqrt(40 / 29.05)) < 1e-9)
  assert.ok(stdUpperBoundFactor(12, 0.9) > stdUpperBoundFactor(30, 0.9) && stdUpperBoundFactor(30, 0.9) > stdUpperBoundFactor(101, 0.9))
  assert.ok(stdUpperBoundFactor(12, 0.99) > stdUpperBoundFactor(12, 0.9))
  assert.equal(stdUpperBoundFactor(1, 0.9), 1)
  assert.throws(() => checkStdConfidence('test', 0.8), /'stdConfidence' must be one of 0.9, 0.95, 0.975, 0.99, 0.995, got 0.8/)
})

/** Share of fresh N(0, 1) values at z >= 3 against a baseline of 12 earlier ones (nominal: 0.00135). */
function youngBaselineAlarmRate(stdConfidence: number | undefined): number {
  const noise = gaussian(mulberry32(42))
  const detector = new ZScoreDetector({ baseline: rollingBaseline(12), threshold: 3, direction: 'up', minHistory: 12, ...(stdConfidence === undefined ? {} : { stdConfidence }) })
  const trials = 20_000
  let alarms = 0
  for (let t = 0; t < trials; t++) {
    let state = detector.initial()
    for (let i = 0; i < 12; i++) state = detector.step(state, noise()).state
    if (detector.step(state, noise()).verdict.anomalous) alarms++
  }
  return alarms / trials
}

test('a young baseline (12 windows) fires several times its nominal rate on noise; against the std bound it does not', () => {
  const nominal = 0.00135
  const plain = youngBaselineAlarmRate(undefined)
  const bounded = youngBaselineAlarmRate(0.9)
  assert.ok(plain > 3 * nominal, `plain ${plain}`)
  assert.ok(bounded < 1.5 * nominal, `bounded ${bounded}`)
})
