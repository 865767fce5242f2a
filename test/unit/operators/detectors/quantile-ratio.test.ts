import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { WindowedQuantileDetector } from '../../../../operators/detectors/quantile.js'
import { RatioDetector } from '../../../../operators/detectors/ratio.js'
import { gaussian, mulberry32 } from './prng.js'

const latencies = (g: () => number, n: number, mean: number) => Array.from({ length: n }, () => Math.max(1, mean + mean * 0.1 * g()))

describe('windowed quantile', () => {
  test('p99 above a fixed bound', () => {
    const d = new WindowedQuantileDetector({ p: 0.99, bound: 500 })
    const r = d.step(d.initial(), [...Array.from({ length: 98 }, () => 100), 600, 700])
    assert.equal(r.verdict.anomalous, true)
    assert.equal(r.verdict.reason, 'bound')
    assert.equal(d.step(d.initial(), Array.from({ length: 100 }, () => 100)).verdict.anomalous, false)
  })

  test('p99 above k × its baseline: a latency spike window is flagged, steady windows are not', () => {
    const d = new WindowedQuantileDetector({ p: 0.99, factor: 2, alpha: 0.2, minHistory: 5 })
    const g = gaussian(mulberry32(11))
    let state = d.initial()
    const flagged: number[] = []
    for (let w = 0; w < 300; w++) {
      const samples = latencies(g, 200, 100)
      if (w === 200) for (let i = 0; i < 10; i++) samples[i] = 900
      const r = d.step(state, samples)
      state = r.state
      if (r.verdict.anomalous) flagged.push(w)
    }
    assert.deepEqual(flagged, [200])
  })
})

describe('ratio with minimum volume', () => {
  const d = new RatioDetector({ maxRatio: 0.1, minVolume: 50 })
  test('below the minimum volume nothing is judged', () => {
    const v = d.judge(5, 10)
    assert.equal(v.judged, false)
    assert.equal(v.anomalous, false)
  })
  test('at or above the ratio with enough volume: anomalous, severity by multiples', () => {
    assert.equal(d.judge(9, 100).anomalous, false)
    assert.equal(d.judge(10, 100).anomalous, true)
    assert.equal(d.judge(10, 100).severity, 'low')
    assert.equal(d.judge(40, 100).severity, 'critical')
  })
})
