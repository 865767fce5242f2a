/**
 * `sentinel_detector_config_version`: the detector version whose live settings this instance's
 * detectors apply (0: the detectors file it started from). No labels: one series per instance (the
 * scrape adds the instance), so instances running different versions show as different values.
 */
import { Gauge, type Registry } from 'prom-client'

const NAME = 'sentinel_detector_config_version'

/** Registers the gauge once per registry (at 0) and returns its setter. */
export function detectorConfigVersionGauge(registry: Registry): (version: number) => void {
  const existing = registry.getSingleMetric(NAME) as Gauge | undefined
  const gauge =
    existing ??
    new Gauge({
      name: NAME,
      help: 'Detector config version whose live settings this instance applies (0: the detectors file it started from)',
      registers: [registry],
    })
  if (existing === undefined) gauge.set(0)
  return (version) => gauge.set(version)
}
