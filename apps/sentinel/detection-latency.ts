/**
 * Seed 001/002's detection latency metrics, measured where anomalies are read back from the
 * anomalies topic: wall-clock time minus the anomaly's `timestamp`, the event time at which the
 * detector could decide (a window's end plus its grace, a rule's triggering event). On live traffic,
 * where event time follows the wall clock, it is how long after that moment Sentinel knew: the
 * repartitions and the detector, the wait for a later event to close the window, and the write and
 * read of the anomalies topic. On replayed (old) telemetry it measures the replay's age, not speed.
 *
 * - `sentinel_detection_latency_seconds`: a histogram over every anomaly;
 * - `sentinel_detector_latency_seconds{detector,quantile}`: a summary per detector (the seed's
 *   quantiles 0.5, 0.95, 0.99 over the last 10 minutes); detector labels are capped by the caller.
 */
import { Histogram, type Registry, Summary } from 'prom-client'

export class DetectionLatency {
  private readonly overall: Histogram
  private readonly perDetector: Summary<'detector'>

  constructor(registry: Registry) {
    const histogram = 'sentinel_detection_latency_seconds'
    const summary = 'sentinel_detector_latency_seconds'
    this.overall =
      (registry.getSingleMetric(histogram) as Histogram | undefined) ??
      new Histogram({ name: histogram, help: 'Wall clock at which an anomaly was read minus its event time (live traffic: time to detect)', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600], registers: [registry] })
    this.perDetector =
      (registry.getSingleMetric(summary) as Summary<'detector'> | undefined) ??
      new Summary({ name: summary, help: 'Detection latency per detector (see sentinel_detection_latency_seconds)', labelNames: ['detector'], percentiles: [0.5, 0.95, 0.99], maxAgeSeconds: 600, ageBuckets: 5, registers: [registry] })
  }

  /** One anomaly read at `nowMs` whose event time is `timestamp`. */
  observe(detector: string, timestamp: string, nowMs: number): void {
    const at = Date.parse(timestamp)
    if (!Number.isFinite(at)) return
    const seconds = Math.max(0, nowMs - at) / 1000
    this.overall.observe(seconds)
    this.perDetector.observe({ detector }, seconds)
  }
}
