/**
 * A point detector whose threshold is calibrated to the series' own tails: a value is anomalous
 * when it lies beyond a fence `factor` times as far from the median as the `tail` quantile of the
 * recent values (per side): upper fence = median + factor · (q(tail) − median), lower fence =
 * median − factor · (median − q(1 − tail)). A fixed z threshold must be high enough for the
 * heaviest-tailed series it meets (NAB needs about 10 spreads), and then misses 5-spread spikes on
 * a series whose noise never leaves 3; here the same `factor` means "that much further out than the
 * series' own 1-in-100 value" on either kind of series, which is a tail probability, not a count of
 * spreads.
 *
 * Robust to the anomalies themselves: the quantiles come from a rolling sorted window (as
 * robust-baseline.ts), and a value beyond a fence enters it clipped to the fence, so spikes in fewer
 * than 1 - tail of the rows on a side (1% at tail 0.99) neither move the median nor widen the fence
 * (a mean/std baseline's spread grows with every spike it lets in, hiding the next ones).
 *
 * Floors: the fence distance is at least `minDistance` (given per step by the caller, e.g. a few
 * spreads of a mean/std baseline), so a discrete series whose quantiles tie (q(tail) = median) does
 * not alarm on every change of value. Assumes the window's values are exchangeable (no season or
 * trend inside it); fails after a level shift until it is applied with `shiftLevel` or the window
 * refills, and when more than 1 - tail of the rows on one side are anomalous: the clipped spikes
 * then become the tail quantile and the fence widens, by `factor` per refill at most, until it
 * misses them. (Clipping at the quantile instead prevents that, and cost 1.6 points on NAB, where
 * legitimate values move beyond the fence: tried once, dropped.)
 *
 * `learnBeyond: 'exclude'` leaves flagged values out of the window instead, so the fence is made
 * only of values it did not flag and holds however dense the flagged ones are (tested: spikes in 5%
 * of the rows, 0.9+ caught, against under 0.6 clipped in). Excluding, it also judges what it learns
 * during the warm-up, on a provisional fence once it holds 2 / (1 - tail) values (200 at 0.99),
 * though it gives no verdict before `minHistory`; otherwise dense anomalies in the warm-up would be
 * the first fence's tail. *Assumes* what lies beyond the fence is rare unless anomalous: a lasting
 * rise of the noise is still learned (its values between the quantile and the fence widen it;
 * tested: noise three times as wide is followed within 2000 rows), but heavy-tailed data whose
 * legitimate values land beyond the fence now and then keeps a fence that is too narrow (the NAB
 * point and level fences lost 7 points excluding: bench/nab/README.md). *Fails* when anomalies are
 * over 1 - tail of a side's rows in the window's first 2 / (1 - tail) values: the provisional
 * fence is then made of them.
 *
 * Score: r = distance from the median / fence distance, score = r / (1 + r), 0.5 at the fence
 * (severity.ts).
 */
import { anomalyScore } from './severity.js'
import { lowerBound, sortedQuantile } from './robust-baseline.js'

export interface TailFenceConfig {
  /** Rows in the rolling window. */
  readonly size: number
  /** Quantile of the window defining a side's tail, e.g. 0.99 (the lower side uses 1 - tail). */
  readonly tail: number
  /** The fence lies `factor` times as far from the median as that quantile. */
  readonly factor: number
  /** Rows the window needs before any verdict; earlier rows only teach it. */
  readonly minHistory: number
  /**
   * What the window learns from a value beyond the fence: 'fence' (default) lets it in clipped to
   * the fence, so up to 1 - tail of a side's rows can be anomalous without widening it, and beyond
   * that the clipped values become the tail quantile and the fence doubles (at factor 2) per
   * refill until it stands past them; 'exclude' leaves it out, so the fence is made only of values
   * it did not flag and holds however dense the flagged ones are (see the class comment for what
   * that costs).
   */
  readonly learnBeyond?: 'fence' | 'exclude'
}

export interface TailFenceState {
  /** Insertion order (ring; `head` is the slot the next value overwrites once full). */
  readonly values: number[]
  readonly head: number
  /** The same values, ascending. */
  readonly sorted: number[]
}

export interface TailFenceVerdict {
  readonly ready: boolean
  readonly anomalous: boolean
  readonly median: number
  /** Fence distance from the median on the side the value lies. */
  readonly distance: number
  /** Signed (value - median) / distance: beyond ±1 is beyond the fence. */
  readonly ratio: number
  readonly score: number
}

const NOT_READY: TailFenceVerdict = { ready: false, anomalous: false, median: Number.NaN, distance: Number.NaN, ratio: 0, score: 0 }

export class TailFenceDetector {
  constructor(readonly config: TailFenceConfig) {
    if (!(Number.isInteger(config.size) && config.size >= 4)) throw new Error(`tail fence size must be an integer >= 4, got ${config.size}`)
    if (!(config.tail > 0.5 && config.tail < 1)) throw new Error(`tail fence quantile must be in (0.5, 1), got ${config.tail}`)
    if (!(config.factor >= 1)) throw new Error(`tail fence factor must be >= 1, got ${config.factor}`)
    if (!(config.minHistory >= 4)) throw new Error(`tail fence minHistory must be >= 4, got ${config.minHistory}`)
  }

  initial(): TailFenceState {
    return { values: [], head: 0, sorted: [] }
  }

  /**
   * Judges `value` against the window, then lets it in (clipped to the fence if beyond it). The
   * state is updated in place and returned, as the rolling baselines do: keep only the returned one.
   */
  step(state: TailFenceState, value: number, minDistance = 0): { state: TailFenceState; verdict: TailFenceVerdict } {
    const { tail, factor, minHistory } = this.config
    const exclude = this.config.learnBeyond === 'exclude'
    const s = state.sorted
    // Excluding, the fence judges what it learns from the first rows on (once its window holds
    // enough values for a tail quantile: two beyond it), though it gives no verdict before
    // `minHistory`: otherwise anomalies in the warm-up would be the first fence's tail.
    const judged = s.length >= minHistory || (exclude && s.length >= Math.ceil(2 / (1 - tail)))
    if (!judged || !Number.isFinite(value)) return { state: this.learn(state, value), verdict: NOT_READY }
    const median = sortedQuantile(s, 0.5)
    const up = value >= median
    const reach = up ? sortedQuantile(s, tail) - median : median - sortedQuantile(s, 1 - tail)
    const distance = Math.max(factor * reach, minDistance, 1e-12)
    const ratio = (value - median) / distance
    const anomalous = Math.abs(ratio) >= 1
    const verdict: TailFenceVerdict = s.length >= minHistory ? { ready: true, anomalous, median, distance, ratio, score: anomalyScore(ratio, 1) } : NOT_READY
    if (anomalous && exclude) return { state, verdict }
    return { state: this.learn(state, anomalous ? median + Math.sign(ratio) * distance : value), verdict }
  }

  /**
   * Moves the remembered values by `delta` (after a confirmed level shift), all but the `keepLast`
   * most recent: the rows since the change began (a CUSUM's run length) are already at the new
   * level, and moving them too would leave them `delta` beyond it, in the window's tail: with
   * shifts every few hundred rows those rows pile up there and the fence widens past the next
   * shift.
   */
  shiftLevel(state: TailFenceState, delta: number, keepLast = 0): TailFenceState {
    const s = state as { -readonly [K in keyof TailFenceState]: TailFenceState[K] }
    const n = s.values.length
    const keep = Math.min(n, Math.max(0, Math.floor(keepLast)))
    if (keep === 0) {
      for (let i = 0; i < n; i++) s.values[i]! += delta
      for (let i = 0; i < s.sorted.length; i++) s.sorted[i]! += delta
      return s
    }
    // The newest value sits just before `head` once the ring is full, at the end while it fills.
    const newest = n < this.config.size ? n - 1 : (s.head - 1 + n) % n
    for (let j = keep; j < n; j++) s.values[(newest - j + n) % n]! += delta
    s.sorted = [...s.values].sort((a, b) => a - b)
    return s
  }

  private learn(state: TailFenceState, value: number): TailFenceState {
    const s = state as { -readonly [K in keyof TailFenceState]: TailFenceState[K] }
    if (!Number.isFinite(value)) return s
    if (s.values.length < this.config.size) {
      s.values.push(value)
    } else {
      const old = s.values[s.head]!
      s.values[s.head] = value
      s.head = (s.head + 1) % this.config.size
      s.sorted.splice(lowerBound(s.sorted, old), 1)
    }
    s.sorted.splice(lowerBound(s.sorted, value), 0, value)
    return s
  }
}
