/**
 * Anomaly likelihood (after Numenta's HTM post-processing, nupic `anomaly_likelihood.py`, used by
 * NAB's numenta detectors): instead of alarming when a raw score crosses a fixed level, ask how
 * unusual the recent raw scores are for this series. The short-term mean of the last `averageRows`
 * raw scores is compared with a normal fitted robustly (median, IQR / 1.349) to the previous
 * `historyRows` such means; the verdict is that mean's upper tail probability. A series whose raw score is always high (noisy, heavy
 * tails) needs a higher one to alarm, a quiet one a lower one: the threshold is a tail probability
 * of the series' own scores, the same on every series.
 *
 * Differences from nupic, each for robustness: the fit is a rolling median and IQR updated every
 * row, not a mean/std refitted every 100 rows (nupic's): with anomalies in one row of 25 (3 raw
 * scores each in the short mean, 12% of the history) a mean/std fit, even with the anomalous means
 * clipped at the alarm level, widened until it caught 24 of 100 spikes (tested); the median/IQR
 * fit holds until a quarter of the history is anomalous. The floors on the fitted centre and spread
 * are nupic's (0.03 and sqrt(0.0003)) scaled by `scoreScale`.
 *
 * Score: deviation = -log10(tail), threshold = -log10(`alarmTail`), score = r / (1 + r) (severity.ts):
 * exactly 0.5 at the alarm tail, like every other core. nupic's log-likelihood is 0.5 at a tail of
 * 1e-5.
 *
 * *Assumes* the raw score is larger for more anomalous rows and that anomalies are rarer than
 * `alarmTail` would allow among the history's means. *Fails* when the raw score's distribution
 * changes for good (a new regime scores higher every row): it alarms until half the history holds
 * the new level (pair it with a change detector and `shiftLevel`, or a hysteresis gate, for one
 * alarm per shift); on a drift slower than the history follows (a drift that has run for the whole
 * history widens the fit as fast as it moves); and it cannot speak before `minHistory` means are
 * in the history.
 */
import { type RollingState, rollingBaseline } from './baseline.js'
import { type RobustRollingState, robustRollingBaseline } from './robust-baseline.js'
import { normalUpperTail } from './normal-tail.js'
import { anomalyScore } from './severity.js'

export interface AnomalyLikelihoodConfig {
  /** Raw scores averaged into the short-term mean (nupic: 10). */
  readonly averageRows: number
  /** Short-term means the normal is fitted to (nupic: 8640, about a month of 5-minute rows). */
  readonly historyRows: number
  /** Means in the history before any verdict. */
  readonly minHistory: number
  /** Upper tail probability that scores 0.5, e.g. 1e-5. */
  readonly alarmTail: number
  /** The raw score's unit: nupic's floors (mean 0.03, std 0.0173) are for raw scores in [0, 1]. */
  readonly scoreScale?: number
}

export interface AnomalyLikelihoodState {
  readonly recent: RollingState
  readonly history: RobustRollingState
}

export interface AnomalyLikelihoodVerdict {
  readonly ready: boolean
  /** Upper tail probability of the short-term mean (1 before the history is ready). */
  readonly tail: number
  readonly anomalous: boolean
  readonly score: number
}

const MIN_MEAN = 0.03
const MIN_STD = Math.sqrt(0.0003)

export class AnomalyLikelihood {
  private readonly recent
  private readonly history
  private readonly threshold: number

  constructor(readonly config: AnomalyLikelihoodConfig) {
    if (!(Number.isInteger(config.averageRows) && config.averageRows >= 1))
      throw new Error(`anomaly likelihood averageRows must be an integer >= 1, got ${config.averageRows}`)
    if (!(Number.isInteger(config.historyRows) && config.historyRows >= 2))
      throw new Error(`anomaly likelihood historyRows must be an integer >= 2, got ${config.historyRows}`)
    if (!(config.minHistory >= 2 && config.minHistory <= config.historyRows))
      throw new Error(`anomaly likelihood minHistory must be in [2, historyRows], got ${config.minHistory}`)
    if (!(config.alarmTail > 0 && config.alarmTail < 0.5)) throw new Error(`anomaly likelihood alarmTail must be in (0, 0.5), got ${config.alarmTail}`)
    if (!((config.scoreScale ?? 1) > 0)) throw new Error(`anomaly likelihood scoreScale must be > 0, got ${config.scoreScale}`)
    this.recent = rollingBaseline(Math.max(2, config.averageRows))
    this.history = robustRollingBaseline(Math.max(4, config.historyRows))
    this.threshold = -Math.log10(config.alarmTail)
  }

  initial(): AnomalyLikelihoodState {
    return { recent: this.recent.initial(), history: this.history.initial() }
  }

  /**
   * Judges the short-term mean including `raw` against the history before it, then lets that mean
   * into the history. Rolling rings are updated in place: keep only
   * the returned state.
   */
  step(state: AnomalyLikelihoodState, raw: number): { state: AnomalyLikelihoodState; verdict: AnomalyLikelihoodVerdict } {
    const x = Number.isFinite(raw) ? raw : 0
    const recent = this.config.averageRows === 1 ? state.recent : this.recent.update(state.recent, x)
    const short = this.config.averageRows === 1 ? x : this.recent.stats(recent).mean
    const h = this.history.stats(state.history)
    const scale = this.config.scoreScale ?? 1
    if (h.count < this.config.minHistory) {
      return { state: { recent, history: this.history.update(state.history, short) }, verdict: { ready: false, tail: 1, anomalous: false, score: 0 } }
    }
    const mean = Math.max(h.mean, MIN_MEAN * scale)
    const std = Math.max(h.std, MIN_STD * scale)
    const tail = normalUpperTail((short - mean) / std)
    const deviation = tail > 0 ? -Math.log10(tail) : Number.POSITIVE_INFINITY
    const score = anomalyScore(deviation, this.threshold)
    const history = this.history.update(state.history, short)
    return { state: { recent, history }, verdict: { ready: true, tail, anomalous: score >= 0.5, score } }
  }
}
