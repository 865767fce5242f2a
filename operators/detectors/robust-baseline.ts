/**
 * A rolling baseline that outliers cannot drag: the median of the last `size` values as its centre
 * and the interquartile range / 1.349 as its spread (the standard deviation a normal distribution
 * with that IQR would have). A mean/std baseline lets a burst of spikes inflate the std and hide the
 * next ones, and drift toward them; here the spread stays bounded however large the outliers,
 * until they are a quarter of the window (a fifth of it at +12 spreads reads 1.5, not 1).
 *
 * The IQR stands in for the MAD: both are 50%-breakdown-free of the tails for symmetric noise, and
 * the IQR is two lookups in the sorted window, where the MAD needs a second selection per row.
 *
 * Assumes the values in the window are exchangeable (no trend or season inside it): a trend widens
 * the IQR, a season makes the median the middle of the cycle. Fails on discrete series with many
 * ties (IQR 0: the floors of ZScoreDetector then decide) and when more than a quarter of the window
 * is anomalous (e.g. after a level shift, until `shiftLevel` is applied or the window refills).
 *
 * State: the ring (insertion order) and the same values sorted, as plain arrays so a store can hold
 * them. `update` changes the state in place and returns it, as rollingBaseline does.
 */
import type { BaselineModel, BaselineStats } from './baseline.js'

export interface RobustRollingState {
  readonly values: number[]
  readonly head: number
  readonly sorted: number[]
}

/** IQR of a standard normal distribution: spread = IQR / this. */
export const NORMAL_IQR = 1.3489795003921634

/** Index of the first element of `sorted` that is >= x (where to insert x, or the first x to remove). */
export function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Linear-interpolated quantile of sorted values (type 7, as numpy's default). */
export function sortedQuantile(sorted: readonly number[], p: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const h = (n - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(n - 1, lo + 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

export interface RobustBaselineModel extends BaselineModel<RobustRollingState> {
  /**
   * Moves every remembered value by `delta`: after a confirmed level shift the baseline jumps to the
   * new level with its spread intact, instead of alarming (or staying blind) until the window refills.
   */
  shiftLevel(state: RobustRollingState, delta: number): RobustRollingState
}

export function robustRollingBaseline(size: number): RobustBaselineModel {
  if (!Number.isInteger(size) || size < 4) throw new Error(`robust baseline size must be an integer >= 4, got ${size}`)
  return {
    kind: 'robust',
    initial: () => ({ values: [], head: 0, sorted: [] }),
    stats(state): BaselineStats {
      const n = state.sorted.length
      if (n === 0) return { mean: Number.NaN, std: Number.NaN, count: 0 }
      const iqr = sortedQuantile(state.sorted, 0.75) - sortedQuantile(state.sorted, 0.25)
      return { mean: sortedQuantile(state.sorted, 0.5), std: n < 2 ? 0 : iqr / NORMAL_IQR, count: n }
    },
    update(state, value) {
      const s = state as { -readonly [K in keyof RobustRollingState]: RobustRollingState[K] }
      // A NaN would never be found again in the sorted array when it leaves the ring.
      if (!Number.isFinite(value)) return s
      if (s.values.length < size) {
        s.values.push(value)
      } else {
        const old = s.values[s.head]!
        s.values[s.head] = value
        s.head = (s.head + 1) % size
        s.sorted.splice(lowerBound(s.sorted, old), 1)
      }
      s.sorted.splice(lowerBound(s.sorted, value), 0, value)
      return s
    },
    shiftLevel(state, delta) {
      const s = state as { -readonly [K in keyof RobustRollingState]: RobustRollingState[K] }
      for (let i = 0; i < s.values.length; i++) s.values[i]! += delta
      for (let i = 0; i < s.sorted.length; i++) s.sorted[i]! += delta
      return s
    },
  }
}
