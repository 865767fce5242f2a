/**
 * How a deviation becomes an anomaly `score` in [0, 1] and a `severity`, for every detector.
 *
 * Each detector measures its deviation in its own unit (a z-score, a relative change, a ratio of a
 * quantile to its bound...) and has a threshold in that unit. Both mappings use only
 * r = |deviation| / threshold, so they mean the same thing across detectors:
 *
 * - score = r / (1 + r): 0 for no deviation, exactly 0.5 at the threshold, 0.75 at 3x, 0.9 at 9x;
 *   it never saturates, so two anomalies can always be ranked.
 * - severity (only for r >= 1): low below 1.5x the threshold, medium below 2x, high below 3x,
 *   critical from 3x. With a z threshold of 3: |z| in [3, 4.5) low, [4.5, 6) medium, [6, 9) high,
 *   9+ critical.
 */
import type { AnomalySeverity } from '../../schemas/anomaly/anomaly-severity.js'

export type Severity = 'low' | 'medium' | 'high' | 'critical'

/** AnomalyEvent names three levels (schemas/anomaly/anomaly-severity.ts); ours fold onto them. */
export type { AnomalySeverity }

export const SEVERITY_BOUNDS = { medium: 1.5, high: 2, critical: 3 } as const

export function deviationRatio(deviation: number, threshold: number): number {
  if (!(threshold > 0)) throw new Error(`threshold must be > 0, got ${threshold}`)
  const r = Math.abs(deviation) / threshold
  return Number.isNaN(r) ? 0 : r
}

export function anomalyScore(deviation: number, threshold: number): number {
  const r = deviationRatio(deviation, threshold)
  return r === Number.POSITIVE_INFINITY ? 1 : r / (1 + r)
}

/** The severity of a deviation at or beyond its threshold; `undefined` below it. */
export function severityOf(deviation: number, threshold: number): Severity | undefined {
  const r = deviationRatio(deviation, threshold)
  if (r < 1) return undefined
  if (r < SEVERITY_BOUNDS.medium) return 'low'
  if (r < SEVERITY_BOUNDS.high) return 'medium'
  if (r < SEVERITY_BOUNDS.critical) return 'high'
  return 'critical'
}

export function anomalySeverity(severity: Severity): AnomalySeverity {
  return severity === 'low' ? 'info' : severity === 'critical' ? 'critical' : 'warning'
}
