/**
 * Moving-average deviation: how far a window's value is from the EWMA of previous windows, relative
 * to that average (0.5 = 50% above it). Unlike the z-score it needs no variance, so it suits metrics
 * whose spread is not stable, and its threshold reads as a percentage.
 *
 * Poisoning rule as in the z-score: an anomalous window enters the average clipped to
 * mean · (1 ± threshold).
 */
import { type EwmaState, ewmaBaseline } from './baseline.js'
import { type Direction, directed } from './direction.js'
import { type Severity, anomalyScore, severityOf } from './severity.js'

export interface EwmaDeviationConfig {
  /** Weight of the newest window in the average, in (0, 1]. */
  readonly alpha: number
  /** Relative deviation at or beyond which a window is anomalous, e.g. 0.5 for 50%. */
  readonly threshold: number
  readonly direction: Direction
  readonly minHistory: number
}

/** What a running EWMA deviation detector may change between steps (`alpha` shapes the average: not live). */
export type EwmaDeviationParams = Pick<EwmaDeviationConfig, 'threshold' | 'direction' | 'minHistory'>

export function checkEwmaDeviationParams(params: EwmaDeviationParams): void {
  if (!(params.threshold > 0)) throw new Error(`EWMA deviation threshold must be > 0, got ${params.threshold}`)
  if (!Number.isInteger(params.minHistory) || params.minHistory < 1)
    throw new Error(`EWMA deviation minHistory must be an integer >= 1, got ${params.minHistory}`)
}

export interface EwmaDeviationVerdict {
  readonly ready: boolean
  readonly anomalous: boolean
  readonly observed: number
  readonly baselineMean: number
  /** Signed (observed - mean) / |mean|. */
  readonly deviation: number
  readonly threshold: number
  readonly score: number
  readonly severity: Severity | undefined
}

export class EwmaDeviationDetector {
  private readonly model
  constructor(readonly config: EwmaDeviationConfig) {
    checkEwmaDeviationParams(config)
    this.model = ewmaBaseline(config.alpha)
  }

  initial(): EwmaState {
    return this.model.initial()
  }

  /** `params` (checked by the caller) replace the configured ones for this step. */
  step(state: EwmaState, value: number, params: EwmaDeviationParams = this.config): { state: EwmaState; verdict: EwmaDeviationVerdict } {
    const { threshold, direction, minHistory } = params
    const mean = state.mean
    if (state.count < minHistory) {
      return {
        state: this.model.update(state, value),
        verdict: { ready: false, anomalous: false, observed: value, baselineMean: mean, deviation: 0, threshold, score: 0, severity: undefined },
      }
    }
    const scale = Math.abs(mean)
    const deviation = scale === 0 ? (value === 0 ? 0 : Math.sign(value) * Number.POSITIVE_INFINITY) : (value - mean) / scale
    const d = directed(deviation, direction)
    const anomalous = d >= threshold
    const learned = anomalous ? mean + Math.sign(deviation) * threshold * scale : value
    return {
      state: this.model.update(state, learned),
      verdict: {
        ready: true,
        anomalous,
        observed: value,
        baselineMean: mean,
        deviation,
        threshold,
        score: d > 0 ? anomalyScore(d, threshold) : 0,
        severity: anomalous ? severityOf(d, threshold) : undefined,
      },
    }
  }
}
