/**
 * The NAB scorer, computed as NAB v1.0 computes it (nab/sweeper.py): probation, windows as row
 * ranges, the scaled sigmoid, the best (= first) detection per window, false positives weighted by
 * their distance after the preceding window, and normalisation between the null and perfect
 * detectors. Checked row by row against NAB's published windowedGaussian results
 * (test/unit/bench/nab/scorer-reference.test.ts).
 */
import type { CostProfile } from './profiles.js'
import { MAX_TP, scaledSigmoid } from './sigmoid.js'
import { type RowWindow, windowRows } from './windows.js'

export const DEFAULT_PROBATION_PERCENT = 0.15

/** Rows at the head of a file that are never scored: min(floor(p n), p 5000), i.e. at most 750. */
export function probationLength(rows: number, percent = DEFAULT_PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000)
}

/**
 * Everything about a file that does not depend on the detector: its windows and, per row, the
 * unweighted value a detection there would earn (profile weights are applied when scoring).
 */
export interface ScoringPlan {
  readonly name: string
  readonly rows: number
  readonly probation: number
  readonly windows: readonly RowWindow[]
  /** Per row: the index into `windows` of the window holding it, or -1. */
  readonly windowOf: Int32Array
  /**
   * Per row: inside a window sig(-(r - i + 1) / w) / sig(-1) (times A_tp later); outside,
   * -1 before the first window or sig(|r_prev - i| / (w_prev - 1)) after one (times A_fp later).
   */
  readonly unweighted: Float64Array
  /** Windows with at least one scorable (post-probation) row; only these count as TP or FN. */
  readonly countedWindows: number
  /**
   * Windows the labels file gives for this file, scorable or not: what the perfect detector is
   * credited with (NAB's runner.normalize counts `len(windows)` per file for its perfect score).
   */
  readonly labelledWindows: number
}

/** `labelledWindows`: windows the labels file lists (default: `windows.length`). */
export function planFromWindows(name: string, rows: number, windows: readonly RowWindow[], probationPercent = DEFAULT_PROBATION_PERCENT, labelledWindows = windows.length): ScoringPlan {
  const windowOf = new Int32Array(rows).fill(-1)
  const unweighted = new Float64Array(rows)
  let prev: RowWindow | undefined
  let w = 0
  for (let i = 0; i < rows; i++) {
    const cur = windows[w]
    if (cur && i >= cur.left && i <= cur.right) {
      windowOf[i] = w
      const width = cur.right - cur.left + 1
      unweighted[i] = scaledSigmoid(-(cur.right - i + 1) / width) / MAX_TP
      if (i === cur.right) {
        prev = cur
        w++
      }
    } else if (!prev) {
      unweighted[i] = -1
    } else {
      // NAB divides by (w_prev - 1); a one-row window would divide by zero, where NAB yields +inf
      // (hence the full penalty); we keep that behaviour explicitly.
      const span = prev.right - prev.left
      unweighted[i] = span > 0 ? scaledSigmoid(Math.abs(prev.right - i) / span) : -1
    }
  }
  const probation = probationLength(rows, probationPercent)
  const countedWindows = windows.filter((win) => win.right >= probation).length
  return { name, rows, probation, windows, windowOf, unweighted, countedWindows, labelledWindows }
}

/** Plans a file from its row times (ms, ascending) and its `[start, end]` window times (ms). */
export function planFile(name: string, times: readonly number[], limits: readonly (readonly [number, number])[], probationPercent = DEFAULT_PROBATION_PERCENT): ScoringPlan {
  return planFromWindows(name, times.length, windowRows(times, limits), probationPercent, limits.length)
}

/** One file's result at one threshold. tp/fn/fp/tn count scorable rows, as NAB's tables do. */
export interface FileScore {
  readonly name: string
  readonly score: number
  readonly tp: number
  readonly tn: number
  readonly fp: number
  readonly fn: number
  readonly total: number
  /** Windows with at least one detection, and all counted windows. */
  readonly windowsDetected: number
  readonly windowsCounted: number
  /**
   * Per-row contribution, as NAB's `S(t)_<profile>` column: a window's result (its best TP weight,
   * or -A_fn when missed) on the window's left-edge row, each FP's weight on its own row.
   */
  readonly rowScores?: Float64Array
}

/** Scores a file: a row is a detection when its anomaly score is >= threshold. */
export function scoreFile(plan: ScoringPlan, anomalyScores: ArrayLike<number>, threshold: number, profile: CostProfile, options: { rowScores?: boolean } = {}): FileScore {
  if (anomalyScores.length !== plan.rows) {
    throw new Error(`${plan.name}: ${anomalyScores.length} anomaly scores for ${plan.rows} rows`)
  }
  const rowScores = options.rowScores ? new Float64Array(plan.rows) : undefined
  const firstDetection = new Int32Array(plan.windows.length).fill(-1)
  let tp = 0
  let tn = 0
  let fp = 0
  let fn = 0
  let fpScore = 0
  for (let i = plan.probation; i < plan.rows; i++) {
    const detected = anomalyScores[i]! >= threshold
    const win = plan.windowOf[i]!
    if (win >= 0) {
      if (detected) {
        tp++
        if (firstDetection[win] === -1) firstDetection[win] = i
      } else {
        fn++
      }
    } else if (detected) {
      fp++
      const weight = plan.unweighted[i]! * profile.fpWeight
      fpScore += weight
      if (rowScores) rowScores[i] = weight
    } else {
      tn++
    }
  }
  let windowScore = 0
  let windowsDetected = 0
  plan.windows.forEach((win, k) => {
    if (win.right < plan.probation) return
    const at = firstDetection[k]!
    if (at >= 0) {
      // The first detection has the largest sigmoid weight: NAB's max over the window's detections.
      windowsDetected++
      const weight = plan.unweighted[at]! * profile.tpWeight
      windowScore += weight
      if (rowScores) rowScores[win.left] = weight
    } else {
      windowScore -= profile.fnWeight
      if (rowScores) rowScores[win.left] = -profile.fnWeight
    }
  })
  const result: FileScore = { name: plan.name, score: windowScore + fpScore, tp, tn, fp, fn, total: plan.rows, windowsDetected, windowsCounted: plan.countedWindows }
  return rowScores ? { ...result, rowScores } : result
}

/** Raw score of the detector that never detects: every counted window is missed. */
export function nullRawScore(plans: readonly ScoringPlan[], profile: CostProfile): number {
  return -profile.fnWeight * plans.reduce((n, p) => n + p.countedWindows, 0)
}

/**
 * The perfect raw score as NAB normalises with it: A_tp for every window in the labels file,
 * including windows inside probation (which no detector can score) — NAB's runner.normalize does
 * not run a perfect detector through the scorer, it counts the labelled windows.
 */
export function perfectRawScore(plans: readonly ScoringPlan[], profile: CostProfile): number {
  return profile.tpWeight * plans.reduce((n, p) => n + p.labelledWindows, 0)
}

/** 100 (S - S_null) / (S_perfect - S_null). */
export function normalise(raw: number, nullRaw: number, perfectRaw: number): number {
  return (100 * (raw - nullRaw)) / (perfectRaw - nullRaw)
}

/**
 * NAB's threshold sweep over a whole corpus (nab/sweeper.py calcScoreByThreshold): every distinct
 * anomaly score is a candidate threshold; returns the one with the highest corpus raw score (the
 * highest such threshold on ties, as NAB's descending sweep keeps the first maximum).
 */
export function sweepThreshold(plans: readonly ScoringPlan[], scores: readonly ArrayLike<number>[], profile: CostProfile): { threshold: number; raw: number } {
  let n = 0
  for (const p of plans) n += p.rows - p.probation
  const value = new Float64Array(n)
  const weight = new Float64Array(n)
  const windowId = new Int32Array(n)
  let totalWindows = 0
  let k = 0
  plans.forEach((plan, f) => {
    const s = scores[f]!
    if (s.length !== plan.rows) throw new Error(`${plan.name}: ${s.length} anomaly scores for ${plan.rows} rows`)
    for (let i = plan.probation; i < plan.rows; i++, k++) {
      value[k] = s[i]!
      const win = plan.windowOf[i]!
      windowId[k] = win >= 0 ? totalWindows + win : -1
      weight[k] = plan.unweighted[i]! * (win >= 0 ? profile.tpWeight : profile.fpWeight)
    }
    totalWindows += plan.windows.length
  })
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => value[b]! - value[a]!)
  const best = new Float64Array(totalWindows).fill(Number.NaN)
  let raw = nullRawScore(plans, profile)
  let bestRaw = raw
  let bestThreshold = Number.POSITIVE_INFINITY
  for (let j = 0; j < n; ) {
    const t = value[order[j]!]!
    // Take in every row scoring exactly t before evaluating threshold t.
    for (; j < n && value[order[j]!] === t; j++) {
      const r = order[j]!
      const win = windowId[r]!
      if (win < 0) {
        raw += weight[r]!
      } else if (Number.isNaN(best[win]!)) {
        best[win] = weight[r]!
        raw += profile.fnWeight + weight[r]!
      } else if (weight[r]! > best[win]!) {
        raw += weight[r]! - best[win]!
        best[win] = weight[r]!
      }
    }
    if (raw > bestRaw) {
      bestRaw = raw
      bestThreshold = t
    }
  }
  return { threshold: bestThreshold, raw: bestRaw }
}

export interface CorpusScore {
  readonly profile: string
  readonly threshold: number
  readonly swept: boolean
  readonly raw: number
  readonly nullRaw: number
  readonly perfectRaw: number
  readonly normalised: number
  readonly files: readonly FileScore[]
}

/** Scores a corpus under one profile, at a fixed threshold or at the swept best one. */
export function scoreCorpus(plans: readonly ScoringPlan[], scores: readonly ArrayLike<number>[], profile: CostProfile, threshold: number | 'sweep'): CorpusScore {
  const swept = threshold === 'sweep'
  const t = swept ? sweepThreshold(plans, scores, profile).threshold : threshold
  const files = plans.map((plan, f) => scoreFile(plan, scores[f]!, t, profile))
  const raw = files.reduce((s, f) => s + f.score, 0)
  const nullRaw = nullRawScore(plans, profile)
  const perfectRaw = perfectRawScore(plans, profile)
  return { profile: profile.name, threshold: t, swept, raw, nullRaw, perfectRaw, normalised: normalise(raw, nullRaw, perfectRaw), files }
}
