/**
 * The scorer against NAB's published windowedGaussian results: every row's S(t)_<profile>, every
 * file's table row, the corpus totals (standard -24.0131) and the normalised scores (39.65 / 20.87 /
 * 47.41), plus the null detector's tables.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadCorpus, readCsv } from '../../../../bench/nab/corpus.js'
import { loadProfiles, PROFILE_NAMES } from '../../../../bench/nab/profiles.js'
import { planFile, scoreCorpus, scoreFile } from '../../../../bench/nab/scorer.js'
import { NAB_DIR, readScoreTable, resultFile } from './reference.js'

const corpus = loadCorpus(join(NAB_DIR, 'data'), join(NAB_DIR, 'labels/combined_windows.json'))
const profiles = loadProfiles(join(NAB_DIR, 'config/profiles.json'))
const plans = corpus.series.map((s) => planFile(s.path, s.times, corpus.windows.get(s.path)!))
const tables = corpus.series.map((s) => readCsv(resultFile(s.path)))
const scores = tables.map((t) => t.column('anomaly_score').map(Number))
const published = JSON.parse(readFileSync(join(NAB_DIR, 'results/final_results.json'), 'utf8')) as Record<string, Record<string, number>>

test('the corpus is NAB: 58 files, 116 windows, 365,558 rows', () => {
  assert.equal(plans.length, 58)
  assert.equal(plans.reduce((n, p) => n + p.windows.length, 0), 116)
  assert.equal(plans.reduce((n, p) => n + p.rows, 0), 365558)
})

for (const name of PROFILE_NAMES) {
  test(`windowedGaussian ${name}: every row, every file and the totals match NAB`, () => {
    const profile = profiles[name]
    const table = readScoreTable(join(NAB_DIR, `results/windowedGaussian/windowedGaussian_${name}_scores.csv`))
    const nullTable = readScoreTable(join(NAB_DIR, `results/null_${name}_scores.csv`))
    let rowsChecked = 0
    plans.forEach((plan, f) => {
      const ref = table.files.get(plan.name)!
      const r = scoreFile(plan, scores[f]!, ref.threshold, profile, { rowScores: true })
      const perRow = tables[f]!.column(`S(t)_${name}`).map(Number)
      for (let i = 0; i < plan.rows; i++) {
        assert.ok(Math.abs(perRow[i]! - r.rowScores![i]!) < 1e-9, `${plan.name} row ${i}: NAB ${perRow[i]}, ours ${r.rowScores![i]}`)
        rowsChecked++
      }
      assert.ok(Math.abs(r.score - ref.score) < 1e-9, `${plan.name}: NAB ${ref.score}, ours ${r.score}`)
      assert.deepEqual([r.tp, r.tn, r.fp, r.fn, r.total], [ref.tp, ref.tn, ref.fp, ref.fn, ref.total], plan.name)
      const nullRef = nullTable.files.get(plan.name)!
      const n = scoreFile(plan, new Float64Array(plan.rows), 0.5, profile)
      assert.deepEqual([n.score, n.tp, n.tn, n.fp, n.fn], [nullRef.score, nullRef.tp, nullRef.tn, nullRef.fp, nullRef.fn], `null ${plan.name}`)
    })
    assert.equal(rowsChecked, 365558)
    const c = scoreCorpus(plans, scores, profile, 1.0)
    assert.ok(Math.abs(c.raw - table.totals.score) < 1e-8, `raw ${c.raw} vs ${table.totals.score}`)
    assert.equal(c.nullRaw, nullTable.totals.score)
    assert.equal(c.perfectRaw, 116)
    assert.ok(Math.abs(c.normalised - published.windowedGaussian![name]!) < 1e-8, `normalised ${c.normalised}`)
    if (name === 'standard') {
      assert.ok(Math.abs(c.raw - -24.0131) < 1e-4)
      assert.equal(c.normalised.toFixed(1), '39.6')
    }
    // NAB's published threshold (1.0) is what its own sweep chooses.
    const swept = scoreCorpus(plans, scores, profile, 'sweep')
    assert.equal(swept.threshold, 1.0)
    assert.ok(Math.abs(swept.raw - c.raw) < 1e-9)
  })
}
