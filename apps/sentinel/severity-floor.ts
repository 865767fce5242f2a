/**
 * The severity a detector's file asks for, as a floor under the graded one. Graded detectors derive
 * severity from how far past the threshold a value is (operators/detectors/severity.ts), so an
 * error-rate-burst written `severity: critical` came out `warning` at 1.5x its threshold, and a
 * cost anomaly graded `info` matched no alert rule. The file's word is the minimum: a detector's
 * `severity:`, else the highest `severity` of its alert actions; a larger deviation still raises it.
 */
import type { AnomalySeverity } from '../../operators/detectors/severity.js'
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { DetectorConfig } from './detectors-config.js'

const RANK: Record<AnomalySeverity, number> = { info: 0, warning: 1, critical: 2 }

/** The floor of a detector's anomalies, or null when its file names no severity. */
export function severityFloor(detector: DetectorConfig): AnomalySeverity | null {
  let floor: AnomalySeverity | null = detector.minSeverity ?? null
  if (floor !== null) return floor
  for (const action of detector.actions) {
    if (action.kind === 'alert' && action.severity !== null && (floor === null || RANK[action.severity] > RANK[floor])) floor = action.severity
  }
  return floor
}

export function withSeverityFloor(anomaly: AnomalyEvent, floor: AnomalySeverity): AnomalyEvent {
  return RANK[anomaly.severity] >= RANK[floor] ? anomaly : { ...anomaly, severity: floor }
}
