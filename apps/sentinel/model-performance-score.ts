/**
 * `sentinel_model_performance_score{model}` (seed 002): one number per model, 0 (unusable) to 100
 * (every call succeeded, no slower than usual), set from each closed MetricsAggregation window of
 * the model (metrics-aggregation.ts), so it reads the same calls the aggregations topic reports:
 *
 *   score = 100 × (1 − error_rate) × min(1, baseline_latency / latency)
 *
 * - `error_rate`: failed calls / calls of the window;
 * - `latency`: the window's mean latency; `baseline_latency` an exponentially weighted mean
 *   (alpha 0.1) of the model's earlier windows' mean latency, updated after scoring, so a slow
 *   window is judged against the model's usual speed, not against itself. No baseline yet (the
 *   first window) or no latency in the window: the latency factor is 1. Being faster than usual
 *   earns nothing above 100.
 *
 * Anomalies are not part of it: they are counted per detector already, and an anomaly of a model
 * is usually that same error rate or latency. Per instance, for the windows of the partitions it
 * owns; with several applications on one model, the latest closed window sets the value. Models are
 * capped like every label from telemetry (bounded-label-values.ts); calls without a model are
 * left out.
 */
import { Gauge, type Registry } from 'prom-client'
import { BoundedLabelValues, type LabelOverflowLog } from './bounded-label-values.js'

/** Weight of the newest window in a model's latency baseline. */
export const LATENCY_BASELINE_ALPHA = 0.1

/** Models usually number a handful per deployment: far fewer than this. */
const MAX_MODEL_LABELS = 50

/** What one closed window of a model reports. */
export interface ModelWindow {
  readonly calls: number
  readonly errors: number
  /** Mean latency of the window's calls, ms; null when none carried one. */
  readonly meanLatencyMs: number | null
}

/** The score of one window against the model's baseline latency (null: none yet). */
export function performanceScore(window: ModelWindow, baselineLatencyMs: number | null): number {
  if (window.calls <= 0) return 100
  const success = 1 - Math.min(1, Math.max(0, window.errors / window.calls))
  const latency = window.meanLatencyMs
  const speed = baselineLatencyMs === null || latency === null || !(latency > 0) || !(baselineLatencyMs > 0) ? 1 : Math.min(1, baselineLatencyMs / latency)
  return 100 * success * speed
}

export class ModelPerformanceScore {
  private readonly gauge: Gauge<'model'>
  private readonly models: BoundedLabelValues
  private readonly baselines = new Map<string, number>()

  constructor(registry: Registry, log?: LabelOverflowLog) {
    const name = 'sentinel_model_performance_score'
    this.gauge =
      (registry.getSingleMetric(name) as Gauge<'model'> | undefined) ??
      new Gauge({
        name,
        help: 'Per model, 0-100: 100 x (1 - error rate) x min(1, baseline latency / latency) of its latest closed aggregation window',
        labelNames: ['model'],
        registers: [registry],
      })
    this.models = new BoundedLabelValues('sentinel_model_performance_score{model}', MAX_MODEL_LABELS, log)
  }

  /** A closed window of `model`: sets its score, then moves its latency baseline. */
  observe(model: string | null, window: ModelWindow): void {
    if (model === null || window.calls <= 0) return
    const label = this.models.value(model)
    const baseline = this.baselines.get(label) ?? null
    this.gauge.set({ model: label }, performanceScore(window, baseline))
    const latency = window.meanLatencyMs
    if (latency !== null && latency > 0) this.baselines.set(label, baseline === null ? latency : baseline + LATENCY_BASELINE_ALPHA * (latency - baseline))
  }
}
