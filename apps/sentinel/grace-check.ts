/**
 * Which enabled detectors judge event-time windows or sessions with no grace. Every detector reads
 * its group through a repartition fed by all input partitions (and the model group through the
 * request join first), so the events of one key arrive in the order the upstream tasks wrote them,
 * not in event-time order: an input partition that lags the others (a restore, a rebalance, a slow
 * instance) delivers its events after the group's stream time passed them. With no grace, those
 * falling before a window end already passed are dropped as late (`sentinel_streams_late_records_total`),
 * silently for the detection. Told once at start, not refused: replays and tests rightly run with none.
 */
import type { DetectorConfig, DetectorsConfig } from './detectors-config.js'

/** The strategies that judge closed event-time windows or sessions; the per-record ones drop nothing as late. */
const WINDOW_STRATEGIES: ReadonlySet<string> = new Set(['zscore', 'cusum', 'ewma', 'percentile', 'ratio', 'session-profile', 'threshold', 'consecutive'])

/** The grace of a detector's windows or sessions, ms; null for a detector that judges neither. */
export function graceOf(detector: DetectorConfig): number | null {
  if (!WINDOW_STRATEGIES.has(detector.strategy)) return null
  const d = detector as { graceMs?: unknown; window?: { graceMs?: unknown } | null }
  if (typeof d.graceMs === 'number') return d.graceMs
  if (d.window && typeof d.window.graceMs === 'number') return d.window.graceMs
  return null
}

/** Ids of the enabled detectors whose windows or sessions have no grace. */
export function detectorsWithoutGrace(config: DetectorsConfig): string[] {
  return config.detectors.filter((d) => d.enabled && graceOf(d) === 0).map((d) => d.id)
}

export const NO_GRACE_WARNING =
  'detectors with no grace: their windows drop the events of an input partition that lags the others across a window end (counted in sentinel_streams_late_records_total); set `grace:` to the lag you expect between partitions, e.g. 10s'
