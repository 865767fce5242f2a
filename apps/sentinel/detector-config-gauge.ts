/**
 * `sentinel_detector_config_version` and `sentinel_alert_rules_config_version`: the version of each
 * live configuration (config-versions.ts) this instance applies (0: the file it started from). No
 * labels: one series per instance (the scrape adds the instance), so instances running different
 * versions show as different values.
 */
import { Gauge, type Registry } from 'prom-client'

/** Registers the gauge once per registry (at 0) and returns its setter. */
function configVersionGauge(registry: Registry, name: string, help: string): (version: number) => void {
  const existing = registry.getSingleMetric(name) as Gauge | undefined
  const gauge = existing ?? new Gauge({ name, help, registers: [registry] })
  if (existing === undefined) gauge.set(0)
  return (version) => gauge.set(version)
}

export const detectorConfigVersionGauge = (registry: Registry): ((version: number) => void) =>
  configVersionGauge(
    registry,
    'sentinel_detector_config_version',
    'Detector config version whose live settings this instance applies (0: the detectors file it started from)',
  )

export const alertRulesConfigVersionGauge = (registry: Registry): ((version: number) => void) =>
  configVersionGauge(registry, 'sentinel_alert_rules_config_version', 'Alert rules version this instance applies (0: the alert rules file it started from)')
