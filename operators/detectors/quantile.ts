/**
 * Percentile threshold: a window's p-quantile (e.g. p99 latency) is anomalous above a fixed bound,
 * or above k times its baseline (an EWMA of previous windows' quantiles), whichever is configured;
 * with both, either one fires. The baseline learns anomalous windows clipped to k × baseline.
 */
import { quantile } from 'simple-statistics'
import { type EwmaState, ewmaBaseline } from './baseline.js'
import { type Severity, anomalyScore, severityOf } from './severity.js'

export interface QuantileConfig {
  /** In (0, 1], e.g. 0.99. */
  readonly p: number
  readonly bound?: number
  /** Multiple of the baseline quantile, e.g. 2 for "p99 doubled". */
  readonly factor?: number
  /** EWMA weight of the baseline (default 0.1) and windows needed before the factor test applies. */
  readonly alpha?: number
  readonly minHistory?: number
}

/** What a running quantile detector may change between windows (`p` and `alpha` shape the baseline: not live). */
export type QuantileParams = Pick<QuantileConfig, 'bound' | 'factor' | 'minHistory'>

export function checkQuantileParams(params: QuantileParams): void {
  if (params.bound === undefined && params.factor === undefined) throw new Error('quantile detector needs a bound, a factor, or both')
  if (params.factor !== undefined && !(params.factor > 1)) throw new Error(`quantile factor must be > 1, got ${params.factor}`)
}

export interface QuantileVerdict {
  readonly anomalous: boolean
  readonly observed: number
  /** The baseline quantile (NaN before any window). */
  readonly baselineValue: number
  /** The effective limit that was compared against (the lower of bound and factor × baseline). */
  readonly limit: number
  /** observed / limit: 1 at the limit. */
  readonly ratio: number
  readonly score: number
  readonly severity: Severity | undefined
  readonly reason: 'bound' | 'factor' | undefined
}

export class WindowedQuantileDetector {
  private readonly model
  constructor(readonly config: QuantileConfig) {
    if (!(config.p > 0 && config.p <= 1)) throw new Error(`quantile p must be in (0, 1], got ${config.p}`)
    checkQuantileParams(config)
    this.model = ewmaBaseline(config.alpha ?? 0.1)
  }

  initial(): EwmaState {
    return this.model.initial()
  }

  /** Judges one closed window from its samples (at least one); `params` (checked by the caller) replace the configured ones. */
  step(state: EwmaState, samples: readonly number[], params: QuantileParams = this.config): { state: EwmaState; verdict: QuantileVerdict } {
    if (samples.length === 0) throw new Error('quantile detector: a window needs at least one sample')
    const observed = quantile(samples as number[], this.config.p)
    const { bound, factor } = params
    const baselineValue = state.count > 0 ? state.mean : Number.NaN
    const factorReady = factor !== undefined && state.count >= (params.minHistory ?? 5) && baselineValue > 0
    const factorLimit = factorReady ? factor * baselineValue : Number.POSITIVE_INFINITY
    const limit = Math.min(bound ?? Number.POSITIVE_INFINITY, factorLimit)
    const anomalous = Number.isFinite(limit) && observed > limit
    const ratio = Number.isFinite(limit) && limit > 0 ? observed / limit : 0
    const reason = anomalous ? (limit === bound ? 'bound' : 'factor') : undefined
    const learned = anomalous && factorReady ? Math.min(observed, factorLimit) : observed
    return {
      state: this.model.update(state, learned),
      verdict: {
        anomalous,
        observed,
        baselineValue,
        limit,
        ratio,
        score: anomalyScore(ratio, 1),
        severity: anomalous ? severityOf(ratio, 1) : undefined,
        reason,
      },
    }
  }
}
