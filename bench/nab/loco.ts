/**
 * Leave-one-category-out on a NAB-like corpus: for each category (the first folder of a series'
 * path), the configuration of a small declared grid that scores best on the other categories is
 * chosen, and the left-out category is scored with it. The in-sample figure lets every category
 * vote for the configuration; this one does not let a category vote on its own score, so it says
 * how well the choice of hyperparameters carries to data it was not made on.
 *
 * Per-category scores are normalised as NAB normalises a corpus (scorer.ts: null = every counted
 * window missed, perfect = A_tp per labelled window) over that category's files alone, so each is
 * on NAB's 0-100 scale. A category without windows (NAB's artificialNoAnomaly) has no such scale
 * (null = perfect = 0): its raw score (false-positive cost) is reported and it is left out of the
 * mean. The pooled figure adds every left-out category's raw score and normalises over the whole
 * corpus, so it sits on the same scale as the in-sample score.
 */
import type { NabDetectorConfig } from './detector.js'
import type { CostProfile } from './profiles.js'
import { type ScoringPlan, nullRawScore, perfectRawScore, normalise, scoreFile } from './scorer.js'

export interface LocoCategory {
  readonly category: string
  readonly files: number
  readonly windows: number
  /** The grid entry chosen on the other categories, and its normalised score there. */
  readonly chosen: number
  readonly chosenOnRest: number
  /** The left-out category's raw score and its normalised score (NaN without windows). */
  readonly raw: number
  readonly normalised: number
  /** The same category scored with the in-sample configuration, for comparison. */
  readonly inSampleNormalised: number
}

export interface LocoResult {
  readonly profile: string
  readonly threshold: number
  readonly grid: readonly NabDetectorConfig[]
  /** Index in `grid` of the in-sample configuration. */
  readonly inSample: number
  readonly categories: readonly LocoCategory[]
  /** Mean of the categories' normalised scores (categories with windows only). */
  readonly mean: number
  /** The left-out raw scores summed and normalised over the whole corpus. */
  readonly pooled: number
}

export function categoryOf(path: string): string {
  const at = path.indexOf('/')
  return at < 0 ? '.' : path.slice(0, at)
}

/**
 * `scores[g][f]`: the per-row scores of grid entry g on file f (plans' order). Selection is by the
 * normalised score on the other categories under `profile`, at the fixed `threshold`; ties go to the
 * earlier grid entry.
 */
export function leaveOneCategoryOut(plans: readonly ScoringPlan[], grid: readonly NabDetectorConfig[], scores: readonly (readonly ArrayLike<number>[])[], profile: CostProfile, threshold: number, inSample: number): LocoResult {
  // Raw score of every (grid entry, file): the selection sums these over subsets of files.
  const raw = scores.map((perFile) => plans.map((plan, f) => scoreFile(plan, perFile[f]!, threshold, profile).score))
  const normalisedOver = (files: readonly number[], g: number): number => {
    const subset = files.map((f) => plans[f]!)
    const total = files.reduce((s, f) => s + raw[g]![f]!, 0)
    return normalise(total, nullRawScore(subset, profile), perfectRawScore(subset, profile))
  }
  const byCategory = new Map<string, number[]>()
  plans.forEach((p, f) => byCategory.set(categoryOf(p.name), [...(byCategory.get(categoryOf(p.name)) ?? []), f]))
  const categories: LocoCategory[] = []
  let pooledRaw = 0
  for (const [category, files] of [...byCategory.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const rest = plans.map((_, f) => f).filter((f) => !files.includes(f))
    let chosen = 0
    let best = Number.NEGATIVE_INFINITY
    grid.forEach((_, g) => {
      const s = normalisedOver(rest, g)
      if (s > best) {
        best = s
        chosen = g
      }
    })
    const leftOut = files.reduce((s, f) => s + raw[chosen]![f]!, 0)
    pooledRaw += leftOut
    const windows = files.reduce((n, f) => n + plans[f]!.labelledWindows, 0)
    categories.push({
      category,
      files: files.length,
      windows,
      chosen,
      chosenOnRest: best,
      raw: leftOut,
      normalised: windows > 0 ? normalisedOver(files, chosen) : Number.NaN,
      inSampleNormalised: windows > 0 ? normalisedOver(files, inSample) : Number.NaN,
    })
  }
  const scored = categories.filter((c) => !Number.isNaN(c.normalised))
  return {
    profile: profile.name,
    threshold,
    grid,
    inSample,
    categories,
    mean: scored.reduce((s, c) => s + c.normalised, 0) / scored.length,
    pooled: normalise(pooledRaw, nullRawScore(plans, profile), perfectRawScore(plans, profile)),
  }
}
