import { test } from 'node:test'
import assert from 'node:assert/strict'
import { type RollingState, rollingBaseline } from '../../../../operators/detectors/baseline.js'
import { CusumDetector, type CusumShift } from '../../../../operators/detectors/cusum.js'
import { ZScoreDetector, type ZScoreState } from '../../../../operators/detectors/zscore.js'
import { gaussian, mulberry32 } from './prng.js'

function run(cusum: CusumDetector, residuals: readonly number[]): { at: number; shift: CusumShift }[] {
  let s = cusum.initial()
  const out: { at: number; shift: CusumShift }[] = []
  residuals.forEach((r, at) => {
    const step = cusum.step(s, r)
    s = step.state
    if (step.verdict.shift) out.push({ at, shift: step.verdict.shift })
  })
  return out
}

const cusum = new CusumDetector({ drift: 0.5, threshold: 10, clip: 4 })

test('noise alone rarely confirms a change: at k = 0.5, h = 10 about once in 77,000 rows (two sides)', () => {
  const g = gaussian(mulberry32(11))
  const changes = run(cusum, Array.from({ length: 200_000 }, g)).length
  assert.ok(changes <= 8, `${changes} false changes in 200,000 rows`)
  // h = 5 is much more trigger-happy (about one per 460 rows): the threshold is the false-alarm knob.
  const loose = run(new CusumDetector({ drift: 0.5, threshold: 5, clip: 4 }), Array.from({ length: 200_000 }, g)).length
  assert.ok(loose > 300 && loose < 600, `${loose} false changes at h = 5`)
})

test('a level shift of 1.5 spreads is confirmed within a few dozen rows, with its start and size', () => {
  const g = gaussian(mulberry32(12))
  const shifts = run(cusum, Array.from({ length: 1000 }, (_, i) => g() + (i >= 500 ? 1.5 : 0)))
  assert.equal(shifts.length >= 1, true)
  const first = shifts[0]!
  assert.equal(first.shift.direction, 'up')
  assert.ok(first.at >= 500 && first.at < 540, `confirmed at ${first.at}`)
  assert.ok(Math.abs(first.at - first.shift.rows + 1 - 500) < 15, `estimated start ${first.at - first.shift.rows + 1}`)
  assert.ok(first.shift.size > 1 && first.shift.size < 2.5, `estimated size ${first.shift.size}`)
})

test('one spike, however large, cannot confirm a change: the residual is clipped', () => {
  const g = gaussian(mulberry32(13))
  assert.deepEqual(run(cusum, Array.from({ length: 2000 }, (_, i) => g() + (i === 1000 ? 1e6 : 0))), [])
})

test('a slow drift (0.004 spreads per row) is confirmed downward once it has built up', () => {
  const g = gaussian(mulberry32(14))
  const shifts = run(cusum, Array.from({ length: 2000 }, (_, i) => g() - 0.004 * i))
  assert.ok(shifts.length >= 1)
  assert.equal(shifts[0]!.shift.direction, 'down')
  assert.ok(shifts[0]!.at > 100, `confirmed at ${shifts[0]!.at}: too early for a drift this slow`)
})

test('a confirmed shift moved into the baseline ends the alarms; without it they go on', () => {
  const alarmsAfterShift = (adapt: boolean) => {
    const g = gaussian(mulberry32(15))
    const baseline = rollingBaseline(1000)
    const z = new ZScoreDetector({ baseline, threshold: 4, direction: 'both', minHistory: 200 })
    let zs: ZScoreState<RollingState> = z.initial()
    let cs = cusum.initial()
    let alarms = 0
    for (let i = 0; i < 3000; i++) {
      const p = z.step(zs, 100 + g() + (i >= 1500 ? 6 : 0))
      zs = p.state
      const c = cusum.step(cs, p.verdict.z)
      cs = c.state
      if (c.verdict.shift && adapt) baseline.shiftLevel(zs.baseline, c.verdict.shift.size * p.verdict.baselineStd)
      if (i >= 1500 && p.verdict.anomalous) alarms++
    }
    return alarms
  }
  const plain = alarmsAfterShift(false)
  const adapted = alarmsAfterShift(true)
  assert.ok(adapted < 20, `with adaptation: ${adapted} point alarms after the shift (without: ${plain})`)
  assert.ok(plain > 5 * adapted, `without: ${plain}`)
})
