import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DistributionShiftDetector, type DistributionShiftState, relativeEntropy } from '../../../../operators/detectors/distribution-shift.js'
import { gaussian, mulberry32 } from './prng.js'

const config = { windowSize: 30, bins: 5, significance: 0.01, rareCount: 1, rangeRows: 500, rangeMargin: 0 } as const

function run(values: readonly number[]) {
  const d = new DistributionShiftDetector(config)
  let state: DistributionShiftState = d.initial()
  return values.map((v, i) => {
    const r = d.step(state, v)
    state = i % 101 === 0 ? (JSON.parse(JSON.stringify(r.state)) as DistributionShiftState) : r.state
    return r.verdict
  })
}

test('relative entropy: 0 for equal distributions, Infinity where q has no mass, positive otherwise', () => {
  assert.equal(relativeEntropy([0.5, 0.5], [0.5, 0.5]), 0)
  assert.equal(relativeEntropy([0.5, 0.5], [1, 0]), Number.POSITIVE_INFINITY)
  assert.ok(relativeEntropy([0.9, 0.1], [0.5, 0.5]) > 0.3)
})

test('no verdict until the bin range is learned from the first rangeRows values', () => {
  const g = gaussian(mulberry32(20))
  const v = run(Array.from({ length: 600 }, () => g()))
  assert.ok(v.slice(0, 499).every((x) => !x.ready))
  assert.ok(v.slice(500).every((x) => x.ready))
})

test('a jump in variance is flagged within one window; stationary noise rarely is', () => {
  const g = gaussian(mulberry32(21))
  const values = [...Array.from({ length: 6000 }, () => 10 + g()), ...Array.from({ length: 200 }, () => 10 + 6 * g())]
  const v = run(values)
  const before = v.slice(1000, 6000).filter((x) => x.anomalous).length / 5000
  assert.ok(before < 0.01, `false-alarm rate on stationary noise ${before}`)
  const firstAfter = v.findIndex((x, i) => i >= 6000 && x.anomalous)
  assert.ok(firstAfter >= 6000 && firstAfter < 6000 + config.windowSize, `first alarm at ${firstAfter}`)
  assert.ok(v[firstAfter]!.score >= 0.5)
})

test('the chi-squared threshold comes from simple-statistics (4 degrees of freedom at 1%: 13.28)', () => {
  assert.equal(new DistributionShiftDetector(config).threshold, 13.28)
  assert.throws(() => new DistributionShiftDetector({ ...config, bins: 1 }), /bins must be/)
})
