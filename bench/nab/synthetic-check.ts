/**
 * Generalisation sanity check without the held-out corpus: scores the NAB detector configuration
 * (NAB_CONFIG, fixed threshold 0.5) and NAB's windowedGaussian (at 1.0, its swept standard threshold
 * on NAB, so fixed in advance here too) on the seeded synthetic corpus of synthetic-corpus.ts, per
 * category and overall, with NAB's scorer. Nothing is tuned on this corpus; the swept figures are
 * printed only to show what each detector could reach with a threshold chosen on it in hindsight.
 *
 *   npx tsx bench/nab/synthetic-check.ts [--seed N]
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { NabCorpus } from './corpus.js'
import { ALARM_LEVEL, NAB_CONFIG, type NabDetectorConfig } from './detector.js'
import { categoryOf } from './loco.js'
import { nabDir } from './nab-dir.js'
import { type CostProfile, loadProfiles } from './profiles.js'
import { DirectCoreFeed, type RowFeed } from './row-feed.js'
import { type ScoringPlan, normalise, nullRawScore, perfectRawScore, planFile, scoreCorpus } from './scorer.js'
import { syntheticCorpus } from './synthetic-corpus.js'
import { WINDOWED_GAUSSIAN_STANDARD_THRESHOLD, WindowedGaussianFeed } from './windowed-gaussian.js'

export interface DetectorCheck {
  readonly detector: string
  readonly threshold: number
  readonly standard: number
  readonly lowFp: number
  readonly lowFn: number
  readonly sweptStandard: number
  readonly perCategory: Readonly<Record<string, number>>
}

async function scoresOf(feed: RowFeed, corpus: NabCorpus, plans: readonly ScoringPlan[]): Promise<Float64Array[]> {
  const out: Float64Array[] = []
  for (const [f, s] of corpus.series.entries()) out.push(await feed.scoreSeries(s, { probation: plans[f]!.probation }))
  return out
}

function perCategory(plans: readonly ScoringPlan[], scores: readonly Float64Array[], profile: CostProfile, threshold: number): Record<string, number> {
  const files = scoreCorpus(plans, scores, profile, threshold).files
  const out: Record<string, number> = {}
  for (const category of new Set(plans.map((p) => categoryOf(p.name)))) {
    const idx = plans.map((p, f) => (categoryOf(p.name) === category ? f : -1)).filter((f) => f >= 0)
    const subset = idx.map((f) => plans[f]!)
    out[category] = normalise(idx.reduce((s, f) => s + files[f]!.score, 0), nullRawScore(subset, profile), perfectRawScore(subset, profile))
  }
  return out
}

export async function syntheticCheck(seed: number, profilesFile: string, config: NabDetectorConfig = NAB_CONFIG): Promise<{ files: number; windows: number; results: DetectorCheck[] }> {
  const corpus = syntheticCorpus(seed)
  const plans = corpus.series.map((s) => planFile(s.path, s.times, corpus.windows.get(s.path)!))
  const profiles = loadProfiles(profilesFile)
  const entries: [string, RowFeed, number][] = [
    ['sentinel-streams NAB_CONFIG', new DirectCoreFeed(config), ALARM_LEVEL],
    ['windowedGaussian (NAB)', new WindowedGaussianFeed(), WINDOWED_GAUSSIAN_STANDARD_THRESHOLD],
  ]
  const results: DetectorCheck[] = []
  for (const [detector, feed, threshold] of entries) {
    const scores = await scoresOf(feed, corpus, plans)
    const at = (p: CostProfile) => scoreCorpus(plans, scores, p, threshold).normalised
    results.push({
      detector,
      threshold,
      standard: at(profiles.standard),
      lowFp: at(profiles.reward_low_FP_rate),
      lowFn: at(profiles.reward_low_FN_rate),
      sweptStandard: scoreCorpus(plans, scores, profiles.standard, 'sweep').normalised,
      perCategory: perCategory(plans, scores, profiles.standard, threshold),
    })
  }
  return { files: plans.length, windows: plans.reduce((n, p) => n + p.labelledWindows, 0), results }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '20261204' } } })
  const { files, windows, results } = await syntheticCheck(Number(values.seed), join(nabDir(), 'config/profiles.json'))
  console.log(`synthetic corpus (seed ${values.seed}): ${files} series, ${windows} windows`)
  for (const r of results) {
    const cats = Object.entries(r.perCategory).map(([c, s]) => `${c} ${s.toFixed(1)}`).join(', ')
    console.log(`${r.detector} @ ${r.threshold}: standard ${r.standard.toFixed(2)} low_fp ${r.lowFp.toFixed(2)} low_fn ${r.lowFn.toFixed(2)} | swept standard ${r.sweptStandard.toFixed(2)} | ${cats}`)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
