/**
 * Distribution change, after NAB's relative-entropy detector (Wang et al., "Statistical techniques
 * for online anomaly detection in data centers"): the values of the last `windowSize` records are
 * binned into a histogram and compared (relative entropy, 2·W·KL, which is chi-squared with
 * bins - 1 degrees of freedom under the null) with every distribution seen before. A window that
 * matches none of them at the `significance` level starts a new one and is anomalous; a window that
 * matches a distribution seen no more than `rareCount` times before is anomalous too.
 *
 * Unlike NAB's detector, which bins over the whole file's min and max (known only in hindsight),
 * the bin range here is fixed from the first `rangeRows` values (widened by `rangeMargin` of that
 * range on each side); values beyond it fall in the edge bins. Those first rows are replayed once
 * the range is known, so nothing after them is used early.
 */
import { chiSquaredDistributionTable } from 'simple-statistics'
import { type Severity, anomalyScore, severityOf } from './severity.js'

export interface DistributionShiftConfig {
  readonly windowSize: number
  readonly bins: number
  /** One of simple-statistics' chi-squared table levels: 0.1, 0.05, 0.025, 0.01, 0.005. */
  readonly significance: 0.1 | 0.05 | 0.025 | 0.01 | 0.005
  readonly rareCount: number
  readonly rangeRows: number
  readonly rangeMargin: number
}

export interface DistributionShiftState {
  /** Values held until the bin range is fixed, then the last `windowSize` values (oldest first). */
  readonly pending: number[]
  readonly recent: number[]
  readonly min: number | null
  readonly max: number | null
  /** Distributions seen, as bin probabilities, and how many windows matched each. */
  readonly distributions: number[][]
  readonly counts: number[]
}

export interface DistributionShiftVerdict {
  readonly ready: boolean
  readonly anomalous: boolean
  /** 2·W·KL to the closest known distribution (Infinity when none is comparable). */
  readonly statistic: number
  readonly threshold: number
  readonly score: number
  readonly severity: Severity | undefined
  readonly novel: boolean
}

export class DistributionShiftDetector {
  readonly threshold: number
  constructor(readonly config: DistributionShiftConfig) {
    if (!Number.isInteger(config.bins) || config.bins < 2) throw new Error(`bins must be an integer >= 2, got ${config.bins}`)
    if (!Number.isInteger(config.windowSize) || config.windowSize < config.bins) throw new Error(`windowSize must be an integer >= bins, got ${config.windowSize}`)
    if (!(config.rangeRows >= 1)) throw new Error(`rangeRows must be >= 1, got ${config.rangeRows}`)
    const table = chiSquaredDistributionTable as unknown as Record<number, Record<string, number> | undefined>
    const row = table[config.bins - 1]
    const t = row?.[String(config.significance)]
    if (t === undefined) throw new Error(`no chi-squared value for ${config.bins - 1} degrees of freedom at ${config.significance}`)
    this.threshold = t
  }

  initial(): DistributionShiftState {
    return { pending: [], recent: [], min: null, max: null, distributions: [], counts: [] }
  }

  /**
   * Judges the window ending at `value`. While the range is being learned the verdicts are not
   * ready; the step that fixes it replays the held values and returns the verdict of the last one.
   */
  step(state: DistributionShiftState, value: number): { state: DistributionShiftState; verdict: DistributionShiftVerdict } {
    if (state.min === null || state.max === null) {
      const pending = [...state.pending, value]
      if (pending.length < this.config.rangeRows) return { state: { ...state, pending }, verdict: this.notReady() }
      let lo = Math.min(...pending)
      let hi = Math.max(...pending)
      const margin = (hi - lo) * this.config.rangeMargin
      lo -= margin
      hi += margin
      let s: DistributionShiftState = { pending: [], recent: [], min: lo, max: hi, distributions: [], counts: [] }
      let verdict = this.notReady()
      for (const v of pending) ({ state: s, verdict } = this.judge(s, v))
      return { state: s, verdict }
    }
    return this.judge(state, value)
  }

  private notReady(): DistributionShiftVerdict {
    return { ready: false, anomalous: false, statistic: 0, threshold: this.threshold, score: 0, severity: undefined, novel: false }
  }

  private judge(state: DistributionShiftState, value: number): { state: DistributionShiftState; verdict: DistributionShiftVerdict } {
    const { windowSize, rareCount } = this.config
    const recent = state.recent.length >= windowSize ? [...state.recent.slice(1), value] : [...state.recent, value]
    if (recent.length < windowSize) return { state: { ...state, recent }, verdict: this.notReady() }
    const p = this.histogram(recent, state.min!, state.max!)
    let best = -1
    let bestStat = Number.POSITIVE_INFINITY
    state.distributions.forEach((q, i) => {
      const stat = 2 * windowSize * relativeEntropy(p, q)
      if (stat < this.threshold && stat < bestStat) {
        bestStat = stat
        best = i
      }
    })
    if (best < 0) {
      for (const q of state.distributions) bestStat = Math.min(bestStat, 2 * windowSize * relativeEntropy(p, q))
    }
    const distributions = best < 0 ? [...state.distributions, p] : state.distributions
    const counts = best < 0 ? [...state.counts, 1] : state.counts.map((c, i) => (i === best ? c + 1 : c))
    const first = state.distributions.length === 0
    // The first window defines "normal"; after it, a new distribution or a rarely seen one is anomalous.
    const novel = best < 0 && !first
    const rare = best >= 0 && state.counts[best]! + 1 <= rareCount
    const anomalous = novel || rare
    const stat = first ? 0 : bestStat
    const score = anomalous ? Math.max(0.5, anomalyScore(Math.min(stat, 1e12), this.threshold)) : Math.min(0.49, anomalyScore(stat, this.threshold))
    return {
      state: { pending: [], recent, min: state.min, max: state.max, distributions, counts },
      verdict: { ready: true, anomalous, statistic: stat, threshold: this.threshold, score, severity: anomalous ? (severityOf(Math.min(stat, 1e12), this.threshold) ?? 'low') : undefined, novel },
    }
  }

  private histogram(values: readonly number[], lo: number, hi: number): number[] {
    const { bins } = this.config
    const h = new Array<number>(bins).fill(0)
    const width = hi > lo ? (hi - lo) / bins : 1
    for (const v of values) {
      const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))
      h[b] = h[b]! + 1
    }
    return h.map((c) => c / values.length)
  }
}

/** KL(p || q) in nats; Infinity when p has mass where q has none. */
export function relativeEntropy(p: readonly number[], q: readonly number[]): number {
  let kl = 0
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!
    if (pi === 0) continue
    const qi = q[i]!
    if (qi === 0) return Number.POSITIVE_INFINITY
    kl += pi * Math.log(pi / qi)
  }
  return kl
}
