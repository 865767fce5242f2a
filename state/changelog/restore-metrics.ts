import { Counter, Gauge, type Registry } from 'prom-client'

export interface RestoreMetrics {
  remaining: Gauge<'store' | 'partition'>
  restored: Counter<'store' | 'partition'>
}

const byRegistry = new WeakMap<Registry, RestoreMetrics>()

/** The restore metrics in `registry`, created once per registry (metrics are off without one). */
export function restoreMetrics(registry: Registry): RestoreMetrics {
  let metrics = byRegistry.get(registry)
  if (!metrics) {
    metrics = {
      remaining: new Gauge({
        name: 'sentinel_state_restore_remaining_records',
        help: 'Changelog records left to restore, per store and partition',
        labelNames: ['store', 'partition'],
        registers: [registry],
      }),
      restored: new Counter({
        name: 'sentinel_state_restored_records_total',
        help: 'Changelog records restored into local stores',
        labelNames: ['store', 'partition'],
        registers: [registry],
      }),
    }
    byRegistry.set(registry, metrics)
  }
  return metrics
}
