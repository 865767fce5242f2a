/**
 * Tumbling-window z-score as a DSL operator: per key, a metric aggregated per window; when a window
 * closes its value is compared with a baseline of the key's previous closed windows (rolling
 * mean/std of the last N, or EWMA mean/variance) and an AnomalyEvent is emitted when |z| reaches
 * the threshold in `direction`, once `minHistory` windows have been seen.
 *
 * Baseline poisoning: an anomalous window enters the baseline winsorised to mean ± threshold·std
 * (see operators/detectors/zscore.ts): a lone spike moves it no more than a borderline window, a
 * lasting shift is learned at a bounded rate.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { type BaselineModel, ewmaBaseline, rollingBaseline } from '../detectors/baseline.js'
import type { Direction } from '../detectors/direction.js'
import { robustRollingBaseline } from '../detectors/robust-baseline.js'
import { anomalySeverity } from '../detectors/severity.js'
import { ZScoreDetector, type ZScoreParams, type ZScoreVerdict, checkZScoreParams } from '../detectors/zscore.js'
import type { KStream, TimeWindows } from '../../topology/index.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { LiveParameters, type LiveProvider, problemOf } from './live-parameters.js'
import { windowedDetector } from './windowed-detector.js'
import type { WindowAggregate } from './window-metric.js'

/**
 * `rolling`: mean/std of the last N windows; `ewma`: exponentially weighted mean/variance; `robust`:
 * median and IQR / 1.349 of the last N windows (operators/detectors/robust-baseline.ts), for metrics
 * whose anomalies come in bursts that would inflate a std.
 */
export type BaselineOption =
  | { readonly kind: 'rolling'; readonly windows: number }
  | { readonly kind: 'ewma'; readonly alpha: number }
  | { readonly kind: 'robust'; readonly windows: number }

export interface ZScoreWindowsOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the operator and store names (default: `id`); keep it stable to keep state. */
  readonly name?: string
  /** What a record contributes (default 1 per record, for count/sum/rate). */
  readonly metric?: (value: V, key: string) => number
  /** How the metric is called in titles (default 'metric'). */
  readonly metricName?: string
  readonly window: TimeWindows
  readonly aggregate: WindowAggregate
  readonly baseline: BaselineOption
  /** |z| at or beyond which a window is anomalous. */
  readonly threshold: number
  /** Default 'both'. */
  readonly direction?: Direction
  /** Closed windows per key before any verdict (>= 2; with a rolling baseline at most its size). */
  readonly minHistory: number
  /** Floors of the baseline's std (absolute, and relative to |mean|); see ZScoreDetector. */
  readonly minStd?: number
  readonly minRelativeStd?: number
  /** Judge against an upper confidence bound of the baseline's std (operators/detectors/std-bound.ts). */
  readonly stdConfidence?: number
  /**
   * Read once per closed window: the threshold, direction, minHistory and stdConfidence in force
   * (live-parameters.ts), so they change without a restart; the baseline is kept. Absent: the
   * options' own, for good.
   */
  readonly live?: LiveProvider<ZScoreParams>
}

/** EWMA weights decay as (1 - alpha)^n: after 5/alpha windows of zeros the mean is below 1% of before. */
const EWMA_FILL_HORIZON = 5

function baselineModel(operator: string, option: BaselineOption): { model: BaselineModel<unknown>; maxFill: number } {
  if (option.kind === 'rolling') {
    if (!Number.isInteger(option.windows) || option.windows < 2)
      throw new Error(`${operator}: 'baseline.windows' must be an integer >= 2, got ${option.windows}`)
    return { model: rollingBaseline(option.windows) as BaselineModel<unknown>, maxFill: option.windows }
  }
  if (option.kind === 'robust') {
    if (!Number.isInteger(option.windows) || option.windows < 4)
      throw new Error(`${operator}: 'baseline.windows' must be an integer >= 4 for a robust baseline, got ${option.windows}`)
    return { model: robustRollingBaseline(option.windows) as BaselineModel<unknown>, maxFill: option.windows }
  }
  if (option.kind === 'ewma') {
    if (!(option.alpha > 0 && option.alpha <= 1)) throw new Error(`${operator}: 'baseline.alpha' must be in (0, 1], got ${option.alpha}`)
    return { model: ewmaBaseline(option.alpha) as BaselineModel<unknown>, maxFill: Math.ceil(EWMA_FILL_HORIZON / option.alpha) }
  }
  throw new Error(`${operator}: 'baseline' must be { kind: 'rolling', windows }, { kind: 'robust', windows } or { kind: 'ewma', alpha }`)
}

/** What the z-score core needs; the rest of ZScoreWindowsOptions is about windows and output. */
export type ZScoreCoreOptions = Pick<
  ZScoreWindowsOptions<unknown>,
  'baseline' | 'threshold' | 'direction' | 'minHistory' | 'minStd' | 'minRelativeStd' | 'stdConfidence'
>

function zScoreParts(operator: string, options: ZScoreCoreOptions): { detector: ZScoreDetector<unknown>; maxFill: number } {
  const { model, maxFill } = baselineModel(operator, options.baseline)
  if (options.baseline.kind !== 'ewma' && options.minHistory > options.baseline.windows) {
    throw new Error(
      `${operator}: 'minHistory' (${options.minHistory}) exceeds 'baseline.windows' (${options.baseline.windows}): the rolling baseline never holds that many windows`,
    )
  }
  const detector = new ZScoreDetector({
    baseline: model,
    threshold: options.threshold,
    direction: options.direction ?? 'both',
    minHistory: options.minHistory,
    ...(options.minStd === undefined ? {} : { minStd: options.minStd }),
    ...(options.minRelativeStd === undefined ? {} : { minRelativeStd: options.minRelativeStd }),
    ...(options.stdConfidence === undefined ? {} : { stdConfidence: options.stdConfidence }),
  })
  return { detector, maxFill }
}

/**
 * The core zScoreWindows steps per key over its `<name>-state` store (`DetectorSlot.core`), built
 * from the same options: a service can judge a value against a stored slot with `step` (on a copy:
 * a rolling baseline is updated in place) without running the operator.
 */
export function zScoreCore(options: ZScoreCoreOptions): ZScoreDetector<unknown> {
  return zScoreParts('zScoreCore', options).detector
}

/**
 * `<name>-window` (window store), `<name>-final` (suppression buffer), `<name>` (the detector, store
 * `<name>-state`: per key the baseline and the last window judged). Emits one AnomalyEvent per
 * anomalous window, keyed by the source key, when the window closes (stream time >= end + grace):
 * anomaly_id = anomalyId(id, key, windowStart); timestamp = the close time; score and severity from
 * |z| / threshold (operators/detectors/severity.ts); metrics {baseline_value: baseline mean,
 * observed_value, deviation: z, threshold}; context {window_start, window_end}.
 */
export function zScoreWindows<V>(stream: KStream<string, V>, options: ZScoreWindowsOptions<V>): KStream<string, AnomalyEvent> {
  const operator = `zScoreWindows('${options.name ?? options.id}')`
  checkDetectorId(operator, options.id)
  const { detector, maxFill } = zScoreParts(operator, options)
  const baselineWindows = options.baseline.kind === 'ewma' ? Number.POSITIVE_INFINITY : options.baseline.windows
  const params = new LiveParameters<ZScoreParams>(operator, detector.config, options.live, (p) =>
    p.minHistory > baselineWindows ? `'minHistory' (${p.minHistory}) exceeds 'baseline.windows' (${baselineWindows})` : problemOf(() => checkZScoreParams(p)),
  )
  const what = `${options.aggregate} of ${options.metricName ?? 'metric'}`
  const graceMs = options.window.graceMs
  return windowedDetector<V, { baseline: unknown }, ZScoreVerdict, ZScoreParams>(stream, {
    operator,
    name: options.name ?? options.id,
    window: options.window,
    aggregate: options.aggregate,
    metric: options.metric,
    core: { initial: () => detector.initial(), step: (state, value, p) => detector.step(state, value, undefined, p) },
    params,
    maxFill,
    toEvent(verdict, key, window, p) {
      const direction = p?.direction ?? detector.config.direction
      if (!verdict.anomalous || verdict.severity === undefined) return undefined
      const side = verdict.z > 0 ? 'above' : 'below'
      return anomalyEvent(options, {
        key,
        idTime: window.start,
        detectedAt: window.end + graceMs,
        detectorType: 'statistical',
        severity: anomalySeverity(verdict.severity),
        score: verdict.score,
        title: `${what} ${side} baseline (z=${verdict.z.toFixed(2)})`,
        description: `${what} for ${key} was ${verdict.observed} in the window, ${Math.abs(verdict.z).toFixed(2)} standard deviations ${side} its baseline mean ${verdict.baselineMean} (std ${verdict.baselineStd}); threshold |z| >= ${verdict.threshold} (${direction}).`,
        metrics: { baseline_value: verdict.baselineMean, observed_value: verdict.observed, deviation: verdict.z, threshold: verdict.threshold },
        windowStart: window.start,
        windowEnd: window.end,
      })
    },
  })
}
