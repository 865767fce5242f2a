/**
 * Ratio of two counts per window (e.g. errors / requests), judged only when the denominator reaches
 * a minimum volume, so that 1 error in 2 requests does not read as a 50% error rate.
 * Anomalous at or above `maxRatio`.
 */
import { type Severity, anomalyScore, severityOf } from './severity.js'

export interface RatioConfig {
  readonly maxRatio: number
  readonly minVolume: number
}

/** Both parameters judge a window on its own: both may change while the detector runs. */
export type RatioParams = RatioConfig

export function checkRatioParams(params: RatioParams): void {
  if (!(params.maxRatio > 0)) throw new Error(`ratio maxRatio must be > 0, got ${params.maxRatio}`)
  if (!(params.minVolume >= 1)) throw new Error(`ratio minVolume must be >= 1, got ${params.minVolume}`)
}

export interface RatioVerdict {
  /** False when the window's volume was below `minVolume` (no judgement). */
  readonly judged: boolean
  readonly anomalous: boolean
  readonly ratio: number
  readonly numerator: number
  readonly denominator: number
  readonly threshold: number
  readonly score: number
  readonly severity: Severity | undefined
}

export class RatioDetector {
  constructor(readonly config: RatioConfig) {
    checkRatioParams(config)
  }

  /** `params` (checked by the caller) replace the configured ones. */
  judge(numerator: number, denominator: number, params: RatioParams = this.config): RatioVerdict {
    const { maxRatio, minVolume } = params
    if (denominator < minVolume) {
      return { judged: false, anomalous: false, ratio: Number.NaN, numerator, denominator, threshold: maxRatio, score: 0, severity: undefined }
    }
    const ratio = numerator / denominator
    const anomalous = ratio >= maxRatio
    return {
      judged: true,
      anomalous,
      ratio,
      numerator,
      denominator,
      threshold: maxRatio,
      score: anomalyScore(ratio, maxRatio),
      severity: anomalous ? severityOf(ratio, maxRatio) : undefined,
    }
  }
}
