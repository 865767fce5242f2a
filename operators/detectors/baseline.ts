/**
 * Baselines of a metric over previous closed windows. State is a plain JSON object so a state store
 * can hold it. `update` returns the next state (the EWMA a new object; the rolling ring, for speed,
 * the same object updated in place).
 */
import { mean, sampleVariance } from 'simple-statistics'

export interface BaselineStats {
  readonly mean: number
  readonly std: number
  /** Windows seen so far (for a rolling baseline, capped at its size). */
  readonly count: number
}

export interface BaselineModel<S> {
  readonly kind: 'rolling' | 'ewma' | 'robust'
  initial(): S
  stats(state: S): BaselineStats
  update(state: S, value: number): S
}

/**
 * The last `size` values as a ring (`head` is the slot the next value overwrites once full), with
 * their mean and sum of squared deviations kept by Welford's update (and its sliding form when a
 * value leaves), so stats cost O(1) per window without the cancellation of raw sums. Both are
 * rebuilt exactly (simple-statistics) each time the ring wraps, so rounding cannot accumulate.
 */
export interface RollingState {
  readonly values: number[]
  readonly head: number
  readonly mean: number
  readonly m2: number
}

/**
 * Mean and sample standard deviation over the last `size` closed windows.
 *
 * For speed the ring is updated in place: `update` returns the same object it was given, changed.
 * Keep only the returned state (as a store-backed operator does: get, step, put); clone a state
 * (e.g. through JSON) if an older one must survive.
 */
export interface RollingBaselineModel extends BaselineModel<RollingState> {
  /**
   * Moves every remembered value by `delta` (the spread is unchanged): after a confirmed level shift
   * the baseline stands at the new level at once instead of alarming until the ring has refilled.
   */
  shiftLevel(state: RollingState, delta: number): RollingState
}

export function rollingBaseline(size: number): RollingBaselineModel {
  if (!Number.isInteger(size) || size < 2) throw new Error(`rolling baseline size must be an integer >= 2, got ${size}`)
  return {
    kind: 'rolling',
    initial: () => ({ values: [], head: 0, mean: 0, m2: 0 }),
    stats(state) {
      const n = state.values.length
      if (n === 0) return { mean: Number.NaN, std: Number.NaN, count: 0 }
      return { mean: state.mean, std: n < 2 ? 0 : Math.sqrt(Math.max(0, state.m2) / (n - 1)), count: n }
    },
    update(state, value) {
      const s = state as { -readonly [K in keyof RollingState]: RollingState[K] }
      if (s.values.length < size) {
        s.values.push(value)
        const delta = value - s.mean
        s.mean += delta / s.values.length
        s.m2 += delta * (value - s.mean)
        return s
      }
      const old = s.values[s.head]!
      s.values[s.head] = value
      s.head = (s.head + 1) % size
      if (s.head === 0) {
        s.mean = mean(s.values)
        s.m2 = sampleVariance(s.values) * (size - 1)
        return s
      }
      const before = s.mean
      s.mean += (value - old) / size
      s.m2 += (value - old) * (value - s.mean + old - before)
      return s
    },
    shiftLevel(state, delta) {
      const s = state as { -readonly [K in keyof RollingState]: RollingState[K] }
      for (let i = 0; i < s.values.length; i++) s.values[i]! += delta
      s.mean += delta
      return s
    },
  }
}

export interface EwmaState {
  readonly mean: number
  readonly variance: number
  readonly count: number
}

/**
 * Exponentially weighted mean and variance (West/Finch incremental form): each new window weighs
 * `alpha`, older ones decay by (1 - alpha). The first window seeds the mean with zero variance;
 * `stats` corrects the start-up bias of the variance.
 */
export function ewmaBaseline(alpha: number): BaselineModel<EwmaState> {
  if (!(alpha > 0 && alpha <= 1)) throw new Error(`EWMA alpha must be in (0, 1], got ${alpha}`)
  return {
    kind: 'ewma',
    initial: () => ({ mean: 0, variance: 0, count: 0 }),
    stats(s) {
      if (s.count === 0) return { mean: Number.NaN, std: Number.NaN, count: 0 }
      // Seeded with zero variance, the EWMA variance starts biased low; dividing by the weight it has
      // gathered so far (as Adam does for its moments) makes it usable from the first windows.
      const gathered = 1 - Math.pow(1 - alpha, s.count - 1)
      return { mean: s.mean, std: gathered > 0 ? Math.sqrt(s.variance / gathered) : 0, count: s.count }
    },
    update(s, value) {
      if (s.count === 0) return { mean: value, variance: 0, count: 1 }
      const diff = value - s.mean
      const step = alpha * diff
      return { mean: s.mean + step, variance: (1 - alpha) * (s.variance + diff * step), count: s.count + 1 }
    },
  }
}
