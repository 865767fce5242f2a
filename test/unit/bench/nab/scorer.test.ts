import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { normalise, nullRawScore, perfectRawScore, planFromWindows, probationLength, scoreCorpus, scoreFile, sweepThreshold } from '../../../../bench/nab/scorer.js'
import { scaledSigmoid } from '../../../../bench/nab/sigmoid.js'
import { windowRows } from '../../../../bench/nab/windows.js'
import type { CostProfile } from '../../../../bench/nab/profiles.js'

const standard: CostProfile = { name: 'standard', tpWeight: 1, fnWeight: 1, fpWeight: 0.11 }
const lowFn: CostProfile = { name: 'reward_low_FN_rate', tpWeight: 1, fnWeight: 2, fpWeight: 0.11 }
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`)

function scoresAt(rows: number, hits: Record<number, number>): number[] {
  return Array.from({ length: rows }, (_, i) => hits[i] ?? 0)
}

// File A: 40 rows, probation floor(0.15 * 40) = 6, one window on rows 20..23 (w = 4).
const planA = planFromWindows('a.csv', 40, [{ left: 20, right: 23 }])
// File B: 40 rows, one window on rows 10..14 that the detector misses.
const planB = planFromWindows('b.csv', 40, [{ left: 10, right: 14 }])

describe('NAB scorer, hand-computed cases', () => {
  test('probation is min(floor(0.15 n), 750)', () => {
    assert.equal(probationLength(40), 6)
    assert.equal(probationLength(4032), 604)
    assert.equal(probationLength(22695), 750)
  })

  test('scaled sigmoid: +0.9866 at the left edge, 0 at the right edge, -1 past y = 3', () => {
    close(scaledSigmoid(-1), 0.9866142981514305)
    close(scaledSigmoid(0), 0)
    assert.equal(scaledSigmoid(3.0001), -1)
    close(scaledSigmoid(3), 2 / (1 + Math.exp(15)) - 1)
  })

  test('probation detections ignored; FP before the first window costs A_fp; first detection in a window; FP after a window weighted by distance', () => {
    // row 2: probation; row 10: FP before any window (-0.11); rows 22, 23: in window, the first (22)
    // is at y = -(23 - 22 + 1) / 4 = -0.5 -> sig(-0.5) / sig(-1) = 0.8597925669;
    // row 25: y = |23 - 25| / 3 -> 0.11 sig(2/3) = -0.1024220570; row 39: y = 16 / 3 > 3 -> -0.11.
    const r = scoreFile(planA, scoresAt(40, { 2: 1, 10: 1, 22: 1, 23: 1, 25: 1, 39: 1 }), 0.5, standard, { rowScores: true })
    close(r.score, -0.11 + 0.8597925669097837 - 0.10242205695343354 - 0.11)
    assert.deepEqual([r.tp, r.fn, r.fp, r.tn], [2, 2, 3, 27])
    assert.equal(r.windowsDetected, 1)
    close(r.rowScores![20]!, 0.8597925669097837) // the window's result sits on its left edge, as NAB's S(t) column
    close(r.rowScores![25]!, -0.10242205695343354)
    assert.equal(r.rowScores![2], 0)
  })

  test('a detection on the left edge earns exactly A_tp; a later one in the same window adds nothing', () => {
    close(scoreFile(planA, scoresAt(40, { 20: 1, 23: 1 }), 1, standard).score, 1)
    close(scoreFile(planA, scoresAt(40, { 23: 1 }), 1, standard).score, 0.5621241486044827) // y = -0.25
  })

  test('a missed window costs A_fn under each profile', () => {
    close(scoreFile(planB, scoresAt(40, {}), 0.5, standard).score, -1)
    close(scoreFile(planB, scoresAt(40, {}), 0.5, lowFn).score, -2)
  })

  test('a window lying wholly in probation does not count', () => {
    const plan = planFromWindows('p.csv', 100, [{ left: 2, right: 5 }])
    assert.equal(plan.countedWindows, 0)
    assert.equal(scoreFile(plan, scoresAt(100, {}), 0.5, standard).score, 0)
  })

  test('a window in probation still counts toward the perfect score (NAB counts every labelled window)', () => {
    const inProbation = planFromWindows('p.csv', 100, [{ left: 2, right: 5 }])
    const plans = [planA, inProbation]
    assert.equal(nullRawScore(plans, standard), -1)
    assert.equal(perfectRawScore(plans, standard), 2)
    // Catching A's window at its left edge is then 100 (0.9866 + 1) / 3 = 66.2, not 99.3.
    const c = scoreCorpus(plans, [scoresAt(40, { 20: 1 }), scoresAt(100, {})], standard, 0.5)
    close(c.normalised, (100 * (scaledSigmoid(-1) / scaledSigmoid(-1) + 1)) / 3)
    // A labelled window no row falls in still counts: NAB takes the labels file's count.
    assert.equal(planFromWindows('q.csv', 40, [], 0.15, 1).labelledWindows, 1)
  })

  test('normalisation between the null and perfect detectors', () => {
    const plans = [planA, planB]
    assert.equal(nullRawScore(plans, standard), -2)
    assert.equal(perfectRawScore(plans, standard), 2)
    assert.equal(nullRawScore(plans, lowFn), -4)
    const scores = [scoresAt(40, { 10: 1, 22: 1 }), scoresAt(40, {})]
    const c = scoreCorpus(plans, scores, standard, 0.5)
    const raw = -0.11 + 0.8597925669097837 - 1
    close(c.raw, raw)
    close(c.normalised, (100 * (raw + 2)) / 4)
    close(normalise(-24.0131054891, -116, 116), 39.64952349612069)
  })

  test('the sweep picks the threshold with the best corpus score', () => {
    // At 0.9 only the FP at row 10 fires: -0.11 - 2 missed windows = -2.11.
    // At 0.5 the window in A is also caught at y = -0.5: -0.11 + 0.8598 - 1 = -0.2502.
    // At 0 every row fires, which is far worse.
    const plans = [planA, planB]
    const scores = [scoresAt(40, { 10: 0.9, 22: 0.5 }), scoresAt(40, {})]
    const s = sweepThreshold(plans, scores, standard)
    assert.equal(s.threshold, 0.5)
    close(s.raw, -0.11 + 0.8597925669097837 - 1)
    close(scoreCorpus(plans, scores, standard, 'sweep').raw, s.raw)
  })
})

describe('window rows from timestamps', () => {
  test('exact timestamps map to their rows; the first repeat of a timestamp is taken', () => {
    const times = [0, 10, 20, 20, 30, 40, 50]
    assert.deepEqual(windowRows(times, [[20, 40]]), [{ left: 2, right: 5 }])
  })
  test('limits between rows take the rows inside them', () => {
    const times = [0, 10, 20, 30, 40, 50]
    assert.deepEqual(windowRows(times, [[15, 45]]), [{ left: 2, right: 4 }])
    assert.deepEqual(windowRows(times, [[51, 60]]), [])
  })
})
