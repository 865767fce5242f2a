/**
 * A detector definition run on a sample of telemetry, in process, with nothing written: the same
 * topology the app runs (detection.ts, this one detector alone) on the TopologyTestDriver, so the
 * answer is what the live detector would have flagged on those events, not an approximation.
 *
 * The sample is judged in event-time order as a fresh detector would judge it: no stored baseline,
 * so detectors that need history (minHistory, warm-up windows) say nothing until the sample has
 * given them that much. Windows still open at the sample's last event time are not judged.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { runOnTestDriver } from './demo/driver-run.js'
import type { DetectorConfig } from './detectors-config.js'

export interface DryRun {
  readonly events: number
  readonly anomalies: readonly AnomalyEvent[]
}

export async function dryRunDetector(detector: DetectorConfig, events: readonly TelemetryEvent[]): Promise<DryRun> {
  // Event-time order: a sample gathered from several instances or posted by hand may not be.
  const ordered = [...events].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp))
  // A disabled definition is tested as if enabled: the question is what it would flag.
  const { anomalies } = await runOnTestDriver({ detectors: [{ ...detector, enabled: true }], events: ordered })
  return { events: ordered.length, anomalies }
}
