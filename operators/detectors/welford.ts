/** Welford's running mean and variance of one feature, as a plain JSON object. */
export interface RunningStats {
  readonly count: number
  readonly mean: number
  /** Sum of squared deviations from the mean. */
  readonly m2: number
}

export const EMPTY_STATS: RunningStats = { count: 0, mean: 0, m2: 0 }

export function addSample(s: RunningStats, x: number): RunningStats {
  const count = s.count + 1
  const delta = x - s.mean
  const mean = s.mean + delta / count
  return { count, mean, m2: s.m2 + delta * (x - mean) }
}

/** Sample standard deviation (0 with fewer than two samples). */
export function stdOf(s: RunningStats): number {
  return s.count < 2 ? 0 : Math.sqrt(s.m2 / (s.count - 1))
}
