import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NAB_CONFIG } from '../../../../bench/nab/detector.js'
import { categoryOf, leaveOneCategoryOut } from '../../../../bench/nab/loco.js'
import type { CostProfile } from '../../../../bench/nab/profiles.js'
import { planFromWindows } from '../../../../bench/nab/scorer.js'

const standard: CostProfile = { name: 'standard', tpWeight: 1, fnWeight: 1, fpWeight: 0.11 }
const hitAt = (rows: number, at: number | undefined) => Array.from({ length: rows }, (_, i) => (i === at ? 1 : 0))

test('each category is scored with the configuration that wins on the others, normalised over its own files', () => {
  // Three categories, one 40-row file each with a window on rows 20..23 (probation 6).
  const plans = ['a/1.csv', 'b/1.csv', 'c/1.csv'].map((name) => planFromWindows(name, 40, [{ left: 20, right: 23 }]))
  // Grid entry 0 catches the window in a and b, misses it in c; entry 1 catches it only in c.
  const scores = [
    [hitAt(40, 20), hitAt(40, 20), hitAt(40, undefined)],
    [hitAt(40, undefined), hitAt(40, undefined), hitAt(40, 20)],
  ]
  const grid = [NAB_CONFIG, { ...NAB_CONFIG, pointThreshold: 99 }]
  const r = leaveOneCategoryOut(plans, grid, scores, standard, 0.5, 0)
  // Leaving a out, both entries score 1 - 1 on {b, c}: the tie goes to the earlier entry (so for b);
  // leaving c out, a and b choose 0, which misses c.
  assert.deepEqual(r.categories.map((c) => [c.category, c.chosen]), [['a', 0], ['b', 0], ['c', 0]])
  const left = 1 // a window caught at its left edge earns A_tp (sig(-1) / sig(-1))
  assert.ok(Math.abs(r.categories[0]!.normalised - (100 * (left + 1)) / 2) < 1e-9)
  assert.equal(r.categories[2]!.normalised, 0)
  assert.ok(Math.abs(r.mean - (2 * (100 * (left + 1)) / 2) / 3) < 1e-9)
  assert.ok(Math.abs(r.pooled - (100 * (2 * left - 1 + 3)) / 6) < 1e-9)
})

test('a category without windows is reported raw and left out of the mean', () => {
  const plans = [planFromWindows('a/1.csv', 40, [{ left: 20, right: 23 }]), planFromWindows('quiet/1.csv', 40, [])]
  const r = leaveOneCategoryOut(plans, [NAB_CONFIG], [[hitAt(40, 20), hitAt(40, 30)]], standard, 0.5, 0)
  const quiet = r.categories.find((c) => c.category === 'quiet')!
  assert.ok(Number.isNaN(quiet.normalised))
  assert.ok(Math.abs(quiet.raw - -0.11) < 1e-12)
  assert.ok(Math.abs(r.mean - r.categories[0]!.normalised) < 1e-12)
  assert.equal(categoryOf('realTweets/x.csv'), 'realTweets')
})

test('the left-out category has no vote: its own best configuration is not chosen for it', () => {
  const window = [{ left: 20, right: 23 }]
  const plans = ['a/1.csv', 'c/1.csv', 'c/2.csv', 'c/3.csv'].map((name) => planFromWindows(name, 40, window))
  // Entry 0 catches only a's window, entry 1 only c's three: over the whole corpus entry 1 wins.
  const scores = [
    [hitAt(40, 20), hitAt(40, undefined), hitAt(40, undefined), hitAt(40, undefined)],
    [hitAt(40, undefined), hitAt(40, 20), hitAt(40, 20), hitAt(40, 20)],
  ]
  const r = leaveOneCategoryOut(plans, [NAB_CONFIG, { ...NAB_CONFIG, pointThreshold: 99 }], scores, standard, 0.5, 1)
  assert.deepEqual(r.categories.map((c) => [c.category, c.chosen, c.normalised, c.inSampleNormalised]), [['a', 1, 0, 0], ['c', 0, 0, 100]])
})
