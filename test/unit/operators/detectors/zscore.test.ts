import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { ewmaBaseline, rollingBaseline } from '../../../../operators/detectors/baseline.js'
import { ZScoreDetector, type ZScoreState } from '../../../../operators/detectors/zscore.js'
import type { BaselineModel } from '../../../../operators/detectors/baseline.js'
import type { Direction } from '../../../../operators/detectors/direction.js'
import { gaussian, mulberry32 } from './prng.js'

function run<S>(baseline: BaselineModel<S>, values: readonly number[], direction: Direction = 'both', threshold = 3, minHistory = 30) {
  const d = new ZScoreDetector({ baseline, threshold, direction, minHistory })
  let state: ZScoreState<S> = d.initial()
  return values.map((v, i) => {
    const r = d.step(state, v)
    // Now and then the state goes through JSON, as a state store would hold it.
    state = i % 97 === 0 ? (JSON.parse(JSON.stringify(r.state)) as ZScoreState<S>) : r.state
    return r.verdict
  })
}

const noise = (seed: number, n: number, mean = 100, sd = 5) => {
  const g = gaussian(mulberry32(seed))
  return Array.from({ length: n }, () => mean + sd * g())
}

for (const [name, baseline] of [['rolling(200)', rollingBaseline(200)], ['ewma(0.01)', ewmaBaseline(0.01)]] as const) {
  describe(`z-score with a ${name} baseline`, () => {
    test('a spike is flagged in its own window, and only there', () => {
      const values = noise(1, 300)
      values[250] = 100 + 5 * 8
      const v = run(baseline as BaselineModel<unknown>, values)
      assert.equal(v[250]!.anomalous, true)
      assert.ok(v[250]!.z > 6)
      assert.deepEqual(v.flatMap((x, i) => (x.anomalous ? [i] : [])), [250])
    })

    test('stationary Gaussian noise: false-alarm rate matches |z| >= 3 (0.27%)', () => {
      const v = run(baseline as BaselineModel<unknown>, noise(42, 40_000)).filter((x) => x.ready)
      const rate = v.filter((x) => x.anomalous).length / v.length
      // Expected 0.0027 for known parameters; estimated ones add a little. 40k windows: sd ~ 0.00026.
      assert.ok(rate > 0.0017 && rate < 0.0045, `false-alarm rate ${rate}`)
    })
  })
}

describe('z-score rules', () => {
  test('no verdict before minHistory windows', () => {
    const v = run(rollingBaseline(50), noise(3, 40), 'both', 3, 30)
    assert.ok(v.slice(0, 30).every((x) => !x.ready && !x.anomalous && x.score === 0))
    assert.ok(v.slice(30).every((x) => x.ready))
  })

  test('direction: up ignores drops, down ignores rises, both sees either', () => {
    const values = noise(4, 200)
    values[150] = 150
    values[170] = 50
    const flagged = (dir: Direction) => run(rollingBaseline(100), values, dir).flatMap((x, i) => (x.anomalous ? [i] : []))
    assert.deepEqual(flagged('up'), [150])
    assert.deepEqual(flagged('down'), [170])
    assert.deepEqual(flagged('both'), [150, 170])
  })

  test('an anomalous window is damped: it enters the baseline at mean + threshold·std, not at its value', () => {
    const d = new ZScoreDetector({ baseline: rollingBaseline(10), threshold: 3, direction: 'both', minHistory: 5 })
    let state = d.initial()
    for (const v of [9, 11, 9, 11, 9, 11]) state = d.step(state, v).state
    const { verdict, state: after } = d.step(state, 1000)
    assert.equal(verdict.anomalous, true)
    const learned = after.baseline.values.at(-1)!
    assert.ok(Math.abs(learned - (verdict.baselineMean + 3 * verdict.baselineStd)) < 1e-9)
    // A second spike is still flagged: the first did not inflate the baseline.
    assert.equal(d.step(after, 1000).verdict.anomalous, true)
  })

  test('a lasting level shift is learned: alarms stop after a while', () => {
    const values = [...noise(5, 300), ...noise(6, 700, 130, 5)]
    const v = run(rollingBaseline(100), values)
    assert.equal(v[300]!.anomalous, true)
    assert.ok(v.slice(700).every((x) => !x.anomalous || Math.abs(x.z) < 4), 'still alarming 400 windows after the shift')
  })

  test('score is 0.5 at the threshold and grows with |z|; severity by multiples of the threshold', () => {
    const values = [...noise(7, 100)]
    const v = run(rollingBaseline(100), [...values, 100 + 5 * 20])
    const last = v.at(-1)!
    assert.ok(last.score > 0.8 && last.score < 1)
    assert.equal(last.severity, 'critical')
  })
})

test('clipTo: a value another detector judged anomalous enters the baseline at that point, if nearer than its own clip', () => {
  const run = (clipTo: number | undefined) => {
    const b = rollingBaseline(10)
    const z = new ZScoreDetector({ baseline: b, threshold: 10, direction: 'both', minHistory: 4 })
    let s = z.initial()
    for (const v of [9, 11, 9, 11, 9, 11]) s = z.step(s, v).state
    s = z.step(s, 18, clipTo).state
    return s.baseline.values.at(-1)
  }
  assert.equal(run(undefined), 18, 'below its own threshold of 10 spreads the value enters as it is')
  assert.equal(run(15), 15)
  assert.equal(run(100), 18, 'a clip further out than the value itself is ignored')
})
