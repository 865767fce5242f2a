/**
 * EWMA deviation as a DSL operator: per key, a window's aggregate compared with the EWMA of the
 * key's previous windows, as a relative change ((observed - mean) / |mean|, 0.5 = 50% above).
 * Needs no variance, so it suits metrics whose spread is not stable; its threshold reads as a
 * fraction. An anomalous window enters the average clipped to mean · (1 ± threshold).
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { KStream, TimeWindows } from '../../topology/index.js'
import type { EwmaState } from '../detectors/baseline.js'
import type { Direction } from '../detectors/direction.js'
import { EwmaDeviationDetector, type EwmaDeviationParams, type EwmaDeviationVerdict, checkEwmaDeviationParams } from '../detectors/ewma-deviation.js'
import { anomalySeverity } from '../detectors/severity.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import type { WindowAggregate } from './window-metric.js'
import { LiveParameters, type LiveProvider, problemOf } from './live-parameters.js'
import { windowedDetector } from './windowed-detector.js'

export interface EwmaDeviationWindowsOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the operator and store names (default: `id`). */
  readonly name?: string
  readonly metric?: (value: V, key: string) => number
  readonly metricName?: string
  readonly window: TimeWindows
  readonly aggregate: WindowAggregate
  /** Weight of the newest window in the average, in (0, 1]. */
  readonly alpha: number
  /** Relative deviation at or beyond which a window is anomalous (0.5 = 50%). */
  readonly threshold: number
  /** Default 'both'. */
  readonly direction?: Direction
  /** Windows per key before any verdict. */
  readonly minHistory: number
  /** Read once per closed window: the threshold, direction and minHistory in force (see zScoreWindows). */
  readonly live?: LiveProvider<EwmaDeviationParams>
}

/** What the EWMA deviation core needs; the rest of the options is about windows and output. */
export type EwmaDeviationCoreOptions = Pick<EwmaDeviationWindowsOptions<unknown>, 'alpha' | 'threshold' | 'direction' | 'minHistory'>

function ewmaDeviationParts(operator: string, options: EwmaDeviationCoreOptions): EwmaDeviationDetector {
  if (!(options.alpha > 0 && options.alpha <= 1)) throw new Error(`${operator}: 'alpha' must be in (0, 1], got ${options.alpha}`)
  if (!(options.threshold > 0)) throw new Error(`${operator}: 'threshold' must be > 0 (a fraction: 0.5 = 50%), got ${options.threshold}`)
  if (!Number.isInteger(options.minHistory) || options.minHistory < 1)
    throw new Error(`${operator}: 'minHistory' must be an integer >= 1, got ${options.minHistory}`)
  return new EwmaDeviationDetector({
    alpha: options.alpha,
    threshold: options.threshold,
    direction: options.direction ?? 'both',
    minHistory: options.minHistory,
  })
}

/** The core ewmaDeviationWindows steps per key over its `<name>-state` store, from the same options (see zScoreCore). */
export function ewmaDeviationCore(options: EwmaDeviationCoreOptions): EwmaDeviationDetector {
  return ewmaDeviationParts('ewmaDeviationCore', options)
}

/**
 * Stores and names as zScoreWindows (`<name>-window`, `<name>-final`, `<name>` with `<name>-state`).
 * metrics {baseline_value: the EWMA, observed_value, deviation: the relative change, threshold}.
 */
export function ewmaDeviationWindows<V>(stream: KStream<string, V>, options: EwmaDeviationWindowsOptions<V>): KStream<string, AnomalyEvent> {
  const operator = `ewmaDeviationWindows('${options.name ?? options.id}')`
  checkDetectorId(operator, options.id)
  const detector = ewmaDeviationParts(operator, options)
  const params = new LiveParameters<EwmaDeviationParams>(operator, detector.config, options.live, (p) => problemOf(() => checkEwmaDeviationParams(p)))
  const what = `${options.aggregate} of ${options.metricName ?? 'metric'}`
  const graceMs = options.window.graceMs
  return windowedDetector<V, EwmaState, EwmaDeviationVerdict, EwmaDeviationParams>(stream, {
    operator,
    name: options.name ?? options.id,
    window: options.window,
    aggregate: options.aggregate,
    metric: options.metric,
    core: detector,
    params,
    // After 5 / alpha windows of zeros the average keeps under 1% of what it was.
    maxFill: Math.ceil(5 / options.alpha),
    toEvent(verdict, key, window, p) {
      if (!verdict.anomalous || verdict.severity === undefined) return undefined
      const direction = p?.direction ?? detector.config.direction
      const pct = `${(verdict.deviation * 100).toFixed(1)}%`
      return anomalyEvent(options, {
        key,
        idTime: window.start,
        detectedAt: window.end + graceMs,
        detectorType: 'statistical',
        severity: anomalySeverity(verdict.severity),
        score: verdict.score,
        title: `${what} ${verdict.deviation > 0 ? '+' : ''}${pct} vs its moving average`,
        description: `${what} for ${key} was ${verdict.observed} in the window against a moving average of ${verdict.baselineMean} (${pct}); threshold ±${verdict.threshold * 100}% (${direction}).`,
        metrics: { baseline_value: verdict.baselineMean, observed_value: verdict.observed, deviation: verdict.deviation, threshold: verdict.threshold },
        windowStart: window.start,
        windowEnd: window.end,
      })
    },
  })
}
