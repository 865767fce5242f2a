import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TailFenceDetector } from '../../../../operators/detectors/tail-fence.js'
import { gaussian, mulberry32 } from './prng.js'

const fence = () => new TailFenceDetector({ size: 2000, tail: 0.99, factor: 2.5, minHistory: 300 })

function flagged(values: readonly number[], minDistance = 0): number[] {
  const d = fence()
  let s = d.initial()
  const out: number[] = []
  values.forEach((v, i) => {
    const r = d.step(s, v, minDistance)
    s = r.state
    if (r.verdict.anomalous) out.push(i)
  })
  return out
}

test('a lone spike of 8 spreads is caught on gaussian noise; the fence sits near 2.5 x 2.33 spreads', () => {
  const g = gaussian(mulberry32(31))
  const values = Array.from({ length: 3000 }, (_, i) => 100 + 2 * g() + (i === 2500 ? 16 : 0))
  assert.deepEqual(flagged(values), [2500])
  const d = fence()
  let s = d.initial()
  let distance = 0
  for (const v of values) {
    const r = d.step(s, v)
    s = r.state
    distance = r.verdict.distance
  }
  assert.ok(distance > 2 * 4.5 && distance < 2 * 7.5, `fence distance ${distance}`)
})

test('dense spikes of 6.5-12 spreads in 1% of the rows (both sides): nearly all caught, the fence does not widen with them', () => {
  const rand = mulberry32(32)
  const g = gaussian(rand)
  const spikes = new Set(Array.from({ length: 40 }, (_, k) => 500 + 100 * k))
  const values = Array.from({ length: 4600 }, (_, i) => 10 + g() + (spikes.has(i) ? (rand() < 0.5 ? -1 : 1) * (6.5 + 5.5 * rand()) : 0))
  const hits = flagged(values)
  const caught = hits.filter((i) => spikes.has(i)).length
  assert.ok(caught >= 38, `caught ${caught} of 40`)
  assert.ok(hits.length - caught <= 2, `false alarms ${hits.filter((i) => !spikes.has(i)).join(', ')}`)
})

test('heavy-tailed noise (Student-t 3) without anomalies: the fence follows the tails, few alarms', () => {
  const g = gaussian(mulberry32(33))
  const t3 = () => g() / Math.sqrt((g() ** 2 + g() ** 2 + g() ** 2) / 3)
  const hits = flagged(Array.from({ length: 5000 }, () => 50 + t3()))
  // A fixed 5-spread z would fire on about 0.8% of Student-t(3) rows (~40 here).
  assert.ok(hits.length <= 12, `${hits.length} alarms`)
})

test('a discrete series whose quantiles tie alarms only beyond the floor', () => {
  const rand = mulberry32(34)
  const values = Array.from({ length: 3000 }, () => (rand() < 0.995 ? 5 : 6))
  assert.equal(flagged(values).length > 0, true, 'without a floor every 6 is beyond a zero-width fence')
  assert.deepEqual(flagged(values, 3), [])
})

test('after shiftLevel the fence stands at the new level', () => {
  const g = gaussian(mulberry32(35))
  const d = fence()
  let s = d.initial()
  for (let i = 0; i < 1000; i++) s = d.step(s, 50 + g()).state
  s = d.shiftLevel(s, 20)
  const r = d.step(s, 70.5)
  assert.equal(r.verdict.anomalous, false)
  assert.ok(Math.abs(r.verdict.median - 70) < 0.2)
})

test('shiftLevel(keepLast): the rows since the change began stay where they are, so repeated shifts do not widen the fence', () => {
  const g = gaussian(mulberry32(36))
  const d = fence()
  const run = (keepLast: number): { distance: number; caught: number } => {
    let s = d.initial()
    let level = 0
    let caught = 0
    let distance = 0
    // 3000 rows of noise, then a shift of 6 spreads every 250 rows, applied 20 rows after it began
    // (as a CUSUM would confirm it); the ring is full and wraps throughout.
    for (let i = 0; i < 5000; i++) {
      const shifted = i >= 3000 && (i - 3000) % 250 === 0
      if (shifted) level += 6
      const r = d.step(s, level + g())
      s = r.state
      if (shifted && r.verdict.anomalous) caught++
      if (i >= 3000 && (i - 3000) % 250 === 19) {
        s = d.shiftLevel(s, 6, keepLast)
        assert.deepEqual(
          s.sorted,
          [...s.values].sort((a, b) => a - b),
        )
      }
      // The upper fence, read on the rows above the median (the side a rise is judged on).
      if (i > 4900 && r.verdict.ratio > 0) distance = r.verdict.distance
    }
    return { distance, caught }
  }
  const kept = run(20)
  const all = run(0)
  // 2.5 x 2.33 = 5.8 spreads on clean noise.
  assert.ok(kept.distance < 7, `fence at ${kept.distance.toFixed(2)} spreads with the run kept`)
  assert.ok(all.distance > 10, `fence at ${all.distance.toFixed(2)} spreads with every row moved`)
  assert.ok(kept.caught >= 6 && all.caught <= 2, `shifts caught on their first row: ${kept.caught} kept, ${all.caught} all moved (of 8)`)
})

/** Gaussian noise with spikes of 6-12 spreads (both sides) in `share` of the rows, from row `from` on. */
function denseSpikes(seed: number, share: number, from: number): { values: number[]; spikes: Set<number> } {
  const rand = mulberry32(seed)
  const g = gaussian(rand)
  const spikes = new Set<number>()
  const values = Array.from({ length: 5000 }, (_, i) => {
    if (i < from || rand() >= share) return 10 + g()
    spikes.add(i)
    return 10 + g() + (rand() < 0.5 ? -1 : 1) * (6 + 6 * rand())
  })
  return { values, spikes }
}

function recallOf(values: readonly number[], spikes: ReadonlySet<number>, learnBeyond: 'fence' | 'exclude'): { recall: number; falseAlarms: number } {
  const d = new TailFenceDetector({ size: 2000, tail: 0.99, factor: 2.5, minHistory: 300, learnBeyond })
  let s = d.initial()
  let caught = 0
  let counted = 0
  let falseAlarms = 0
  values.forEach((v, i) => {
    const r = d.step(s, v)
    s = r.state
    if (i < 300) return
    if (spikes.has(i)) counted++
    if (spikes.has(i) && r.verdict.anomalous) caught++
    if (!spikes.has(i) && r.verdict.anomalous) falseAlarms++
  })
  return { recall: caught / counted, falseAlarms }
}

test('dense spikes in 5% of the rows: a fence that excludes what it flags keeps catching them; one that lets them in clipped widens past them', () => {
  const { values, spikes } = denseSpikes(37, 0.05, 300)
  const excluded = recallOf(values, spikes, 'exclude')
  const clipped = recallOf(values, spikes, 'fence')
  assert.ok(excluded.recall >= 0.9, `recall ${excluded.recall.toFixed(2)} excluding flagged rows`)
  assert.ok(clipped.recall <= 0.6, `recall ${clipped.recall.toFixed(2)} with flagged rows clipped in (the fence doubles while over 1% of a side sits at it)`)
  assert.ok(excluded.falseAlarms <= 10, `${excluded.falseAlarms} false alarms`)
})

test('dense spikes during a long warm-up: excluding starts on a provisional fence (from 200 values), so the first fence is not made of spikes', () => {
  // Clean for 250 rows, then spikes in 5% of the rows; no verdict before 1000 values.
  const { values, spikes } = denseSpikes(38, 0.05, 250)
  const d = new TailFenceDetector({ size: 2000, tail: 0.99, factor: 2.5, minHistory: 1000, learnBeyond: 'exclude' })
  let s = d.initial()
  let caught = 0
  let counted = 0
  let warmUpSpikes = 0
  values.forEach((v, i) => {
    const before = s.values.length
    const r = d.step(s, v)
    if (before < 1000) {
      assert.equal(r.verdict.ready, false, `no verdict at row ${i}`)
      if (spikes.has(i) && r.state.values.length === before) warmUpSpikes++
    }
    s = r.state
    if (r.verdict.ready && spikes.has(i)) {
      counted++
      if (r.verdict.anomalous) caught++
    }
  })
  const inWarmUp = [...spikes].filter((i) => i < 1000 + warmUpSpikes).length
  assert.ok(warmUpSpikes >= 0.9 * inWarmUp, `${warmUpSpikes} of ${inWarmUp} warm-up spikes left out`)
  assert.ok(caught / counted >= 0.9, `recall ${(caught / counted).toFixed(2)} after the warm-up`)
  assert.ok(recallOf(values, spikes, 'fence').recall <= 0.6, 'clipped in, the same spikes widen the fence past them')
})

test('excluding what it flags, the fence still follows a lasting rise of the noise (values between its quantile and the fence widen it)', () => {
  const g = gaussian(mulberry32(39))
  const d = new TailFenceDetector({ size: 2000, tail: 0.99, factor: 2.5, minHistory: 300, learnBeyond: 'exclude' })
  let s = d.initial()
  let late = 0
  // 2000 rows of unit noise, then 4000 rows of noise three times as wide.
  for (let i = 0; i < 6000; i++) {
    const r = d.step(s, 10 + (i < 2000 ? 1 : 3) * g())
    s = r.state
    if (i >= 4000 && r.verdict.anomalous) late++
  }
  // On noise of spread 3 the fence settles near 2.5 x 2.33 x 3 = 17.5: few rows lie beyond it.
  assert.ok(late <= 20, `${late} alarms in the last 2000 rows`)
})
