/**
 * Z-score of a closed window's value against a baseline of previous closed windows.
 *
 * Baseline poisoning rule (damping by winsorising): a window judged anomalous enters the baseline
 * clipped to the threshold boundary, mean ± threshold·std, on the side it deviated. A lone spike
 * therefore moves the baseline no more than a borderline normal window would, while a lasting level
 * shift is still learned, at a bounded rate, instead of alarming forever (which outright exclusion
 * would do). Windows seen during warm-up (fewer than `minHistory`) enter unchanged.
 *
 * With a rolling baseline the returned state shares (and has updated) the input's ring: keep only
 * the returned state, as a store-backed operator does (see baseline.ts).
 */
import type { BaselineModel } from './baseline.js'
import { type Direction, directed } from './direction.js'
import { type Severity, anomalyScore, severityOf } from './severity.js'
import { checkStdConfidence, stdUpperBoundFactor } from './std-bound.js'

export interface ZScoreConfig<S> {
  readonly baseline: BaselineModel<S>
  /** |z| at or beyond which a window is anomalous (in `direction`). */
  readonly threshold: number
  readonly direction: Direction
  /** Closed windows the baseline needs before any verdict; earlier windows only teach it. */
  readonly minHistory: number
  /**
   * Floor of the standard deviation, absolute and relative to |mean|, so that a flat baseline does
   * not turn the smallest wiggle into an infinite z.
   */
  readonly minStd?: number
  readonly minRelativeStd?: number
  /**
   * Judge against an upper confidence bound of the baseline's std at this confidence (std-bound.ts:
   * 0.9 ... 0.995) for the samples it holds, so a young baseline's understated std does not fire
   * more often than the threshold says. Default: none (the sample std).
   */
  readonly stdConfidence?: number
}

/**
 * What a running z-score detector may change between steps (an operator's `live` parameters): how
 * values are judged, never what the baseline holds. Absent `stdConfidence`: the sample std.
 */
export type ZScoreParams = Pick<ZScoreConfig<unknown>, 'threshold' | 'direction' | 'minHistory' | 'stdConfidence'>

/** Throws naming the parameter that is out of bounds. */
export function checkZScoreParams(params: ZScoreParams): void {
  if (!(params.threshold > 0)) throw new Error(`z-score threshold must be > 0, got ${params.threshold}`)
  if (!(params.minHistory >= 2)) throw new Error(`z-score minHistory must be >= 2, got ${params.minHistory}`)
  checkStdConfidence('z-score', params.stdConfidence)
}

export interface ZScoreState<S> {
  readonly baseline: S
}

export interface ZScoreVerdict {
  /** False while warming up (no verdict can be given yet). */
  readonly ready: boolean
  readonly anomalous: boolean
  readonly observed: number
  readonly baselineMean: number
  readonly baselineStd: number
  /** Signed z (observed - mean) / std; 0 while warming up. */
  readonly z: number
  readonly threshold: number
  /** In [0, 1]; see severity.ts. 0 while warming up. */
  readonly score: number
  readonly severity: Severity | undefined
}

export class ZScoreDetector<S> {
  constructor(readonly config: ZScoreConfig<S>) {
    checkZScoreParams(config)
  }

  initial(): ZScoreState<S> {
    return { baseline: this.config.baseline.initial() }
  }

  /**
   * Judges `value` against the baseline, then lets it into the baseline (damped if anomalous).
   * `clipTo`, when given, is where another detector judged the value anomalous (e.g. a tail fence):
   * the value then enters no further from the mean than that, if that is nearer than this
   * detector's own clip. `params` (checked by the caller) replace the configured ones for this step.
   */
  step(state: ZScoreState<S>, value: number, clipTo?: number, params: ZScoreParams = this.config): { state: ZScoreState<S>; verdict: ZScoreVerdict } {
    const { baseline } = this.config
    const { threshold, direction, minHistory } = params
    const stats = baseline.stats(state.baseline)
    if (stats.count < minHistory) {
      const verdict: ZScoreVerdict = {
        ready: false,
        anomalous: false,
        observed: value,
        baselineMean: stats.mean,
        baselineStd: stats.std,
        z: 0,
        threshold,
        score: 0,
        severity: undefined,
      }
      return { state: { baseline: baseline.update(state.baseline, value) }, verdict }
    }
    const confidence = params.stdConfidence
    const std = Math.max(
      confidence === undefined ? stats.std : stats.std * stdUpperBoundFactor(stats.count, confidence),
      this.config.minStd ?? 1e-12,
      (this.config.minRelativeStd ?? 0) * Math.abs(stats.mean),
    )
    const z = (value - stats.mean) / std
    const d = directed(z, direction)
    const anomalous = d >= threshold
    const own = anomalous ? stats.mean + Math.sign(z) * threshold * std : value
    const learned = clipTo !== undefined && Math.abs(clipTo - stats.mean) < Math.abs(own - stats.mean) ? clipTo : own
    const verdict: ZScoreVerdict = {
      ready: true,
      anomalous,
      observed: value,
      baselineMean: stats.mean,
      baselineStd: std,
      z,
      threshold,
      score: d > 0 ? anomalyScore(d, threshold) : 0,
      severity: anomalous ? severityOf(d, threshold) : undefined,
    }
    return { state: { baseline: baseline.update(state.baseline, learned) }, verdict }
  }
}
