/**
 * An upper confidence bound of a standard deviation estimated from few samples. The sample std s of
 * n values is below the true one half of the time, and often well below with few values (n = 12: a
 * quarter of the time by 20% or more), so a threshold in units of s fires more often than its
 * nominal rate exactly while a baseline is young. With confidence c the true std is at most
 * s * sqrt((n - 1) / q), q the (1 - c) quantile of chi-squared with n - 1 degrees of freedom
 * (normal samples). The factor shrinks toward 1 as n grows (n = 12, c = 0.9: 1.40; n = 48: 1.17).
 *
 * Quantiles from simple-statistics' chi-squared table (degrees 1-30, then every 10 to 100; beyond
 * that the row for 100): the nearest tabled degrees at or below n - 1, which only widens the bound.
 */
import { chiSquaredDistributionTable } from 'simple-statistics'

/** The confidence levels the table has (its upper-tail probabilities 0.9 ... 0.995). */
export const STD_CONFIDENCE_LEVELS: readonly number[] = [0.9, 0.95, 0.975, 0.99, 0.995]

const TABLE = chiSquaredDistributionTable as unknown as Record<string, Record<string, number>>
const DEGREES = Object.keys(TABLE)
  .map(Number)
  .sort((a, b) => a - b)
const cache = new Map<string, number>()

export function checkStdConfidence(where: string, confidence: number | undefined): void {
  if (confidence !== undefined && !STD_CONFIDENCE_LEVELS.includes(confidence)) throw new Error(`${where}: 'stdConfidence' must be one of ${STD_CONFIDENCE_LEVELS.join(', ')}, got ${confidence}`)
}

/** sqrt((n - 1) / chi2_(1-c)(n - 1)) for `samples` = n >= 2; 1 for fewer (no bound to give). */
export function stdUpperBoundFactor(samples: number, confidence: number): number {
  if (samples < 2) return 1
  const key = `${samples}:${confidence}`
  let factor = cache.get(key)
  if (factor === undefined) {
    const df = DEGREES.filter((d) => d <= samples - 1).at(-1)!
    factor = Math.sqrt(df / TABLE[String(df)]![String(confidence)]!)
    cache.set(key, factor)
  }
  return factor
}
