import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { loadCorpus, readCsv } from '../../../../bench/nab/corpus.js'
import { loadProfiles } from '../../../../bench/nab/profiles.js'
import { planFile, scoreCorpus } from '../../../../bench/nab/scorer.js'
import { WINDOWED_GAUSSIAN_STANDARD_THRESHOLD, WindowedGaussianFeed, erfc } from '../../../../bench/nab/windowed-gaussian.js'
import { NAB_DIR, resultFile } from './reference.js'

test('erfc matches known values', () => {
  const cases: [number, number][] = [[0, 1], [0.5, 0.4795001221869535], [1, 0.15729920705028513], [2, 0.004677734981047266], [3, 2.209049699858544e-5], [6, 2.1519736712498913e-17], [-1, 1.8427007929497148]]
  for (const [x, want] of cases) assert.ok(Math.abs(erfc(x) - want) <= 1e-14 * Math.max(1, want) + 1e-15 * want, `erfc(${x}) = ${erfc(x)}, want ${want}`)
})

test("windowedGaussian reproduces NAB's published per-row scores and its standard score (39.65 at threshold 1.0)", async () => {
  const corpus = loadCorpus(join(NAB_DIR, 'data'), join(NAB_DIR, 'labels/combined_windows.json'))
  const plans = corpus.series.map((s) => planFile(s.path, s.times, corpus.windows.get(s.path)!))
  const feed = new WindowedGaussianFeed()
  const scores: Float64Array[] = []
  for (const s of corpus.series) {
    const mine = await feed.scoreSeries(s)
    const ref = readCsv(resultFile(s.path)).numericColumn('anomaly_score')
    mine.forEach((x, i) => {
      if (Math.abs(x - ref[i]!) > 2e-12) assert.fail(`${s.path} row ${i}: ${x} vs NAB's ${ref[i]}`)
    })
    scores.push(mine)
  }
  const profiles = loadProfiles(join(NAB_DIR, 'config/profiles.json'))
  const standard = scoreCorpus(plans, scores, profiles.standard, WINDOWED_GAUSSIAN_STANDARD_THRESHOLD)
  assert.ok(Math.abs(standard.raw - -24.0131054891) < 1e-6, `raw ${standard.raw}`)
})
