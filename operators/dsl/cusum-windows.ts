/**
 * Tumbling-window CUSUM as a DSL operator, for slow drifts a rolling z-score learns before it sees
 * them. Per key, a metric aggregated per window (e.g. the mean log latency of a model's 2 minutes):
 * - the first `warmupWindows` windows make the baseline (mean and std, Welford), no verdicts;
 * - then each window's residual (value - mean) / std feeds a CUSUM (operators/detectors/cusum.ts,
 *   allowance `drift`, decision `threshold`, residual clipped to `clip`), which confirms a lasting
 *   shift in `direction` and emits one AnomalyEvent per confirmation;
 * - the baseline is then frozen, or learns with weight `alpha` (default 0) only while no change is
 *   building (both CUSUM sides at 0), so a drift is never learned as it happens;
 * - on a confirmed shift the baseline mean moves by the run's mean residual, unclipped (a lasting new
 *   level is reported once, not at every window; a drift that goes on is reported again as it grows).
 *
 * Assumes the windows' values are roughly independent around a stable level during the warm-up.
 * Fails when the warm-up is not representative (a warm-up in a quiet hour of a metric with a daily
 * curve: the curve then reads as a drift), or when the metric's noise changes with volume (a std
 * from busy windows is too small for a quiet hour's means). Empty windows are skipped, not
 * filled: the metric is meant to be a mean of a level (latency, size), not a count.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { CusumDetector, type CusumShift, type CusumState } from '../detectors/cusum.js'
import type { Direction } from '../detectors/direction.js'
import { checkStdConfidence, stdUpperBoundFactor } from '../detectors/std-bound.js'
import { anomalySeverity, severityOf } from '../detectors/severity.js'
import type { KStream, TimeWindows } from '../../topology/index.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { type WindowCore, windowedDetector } from './windowed-detector.js'
import type { WindowAggregate } from './window-metric.js'

export interface CusumCoreOptions {
  /** Windows learned before any verdict (>= 2). */
  readonly warmupWindows: number
  /** Allowance k, in baseline stds: deviations below it never accumulate. */
  readonly drift: number
  /** Decision threshold h, in baseline stds. */
  readonly threshold: number
  /** |residual| clipped to this before it accumulates (default 4; must exceed drift). */
  readonly clip?: number
  /** Weight with which the baseline keeps learning after the warm-up, while no change builds (default 0: frozen). */
  readonly alpha?: number
  /** Default 'up'. */
  readonly direction?: Direction
  /** Floors of the baseline std: absolute, and relative to |mean|. */
  readonly minStd?: number
  readonly minRelativeStd?: number
  /**
   * Judge against an upper confidence bound of the warm-up std (operators/detectors/std-bound.ts;
   * 0.9, 0.95, 0.975, 0.99 or 0.995) rather than the sample std, which a few windows often
   * understate: a CUSUM on residuals standardised by too small a std builds up on noise alone.
   * Default: none (the sample std).
   */
  readonly stdConfidence?: number
}

export interface CusumWindowsOptions<V> extends AnomalyOutputOptions<V>, CusumCoreOptions {
  readonly name?: string
  readonly metric?: (value: V, key: string) => number
  readonly metricName?: string
  readonly window: TimeWindows
  readonly aggregate: WindowAggregate
}

export interface CusumWindowsState {
  /** Windows learned (the warm-up counts up to warmupWindows, then it stays there). */
  readonly n: number
  readonly mean: number
  /** Variance of the baseline (Welford's M2 / n during the warm-up). */
  readonly variance: number
  /** Unclipped residuals summed over each CUSUM side's current run (the shift's size, unclipped). */
  readonly upRaw: number
  readonly downRaw: number
  readonly cusum: CusumState
}

export interface CusumWindowsVerdict {
  readonly ready: boolean
  readonly observed: number
  readonly baselineMean: number
  readonly baselineStd: number
  readonly residual: number
  /** The confirmed shift in `direction`, if this window confirmed one. */
  readonly shift: CusumShift | undefined
  readonly score: number
}

/** The per-key core: warm-up baseline, then CUSUM on standardised residuals. */
export class CusumWindowsCore implements WindowCore<CusumWindowsState, CusumWindowsVerdict> {
  private readonly cusum: CusumDetector
  private readonly direction: Direction
  private readonly stdFactor: number

  constructor(readonly options: CusumCoreOptions) {
    const operator = 'cusumWindows'
    if (!Number.isInteger(options.warmupWindows) || options.warmupWindows < 2) throw new Error(`${operator}: 'warmupWindows' must be an integer >= 2, got ${options.warmupWindows}`)
    const alpha = options.alpha ?? 0
    if (!(alpha >= 0 && alpha <= 1)) throw new Error(`${operator}: 'alpha' must be in [0, 1], got ${alpha}`)
    this.cusum = new CusumDetector({ drift: options.drift, threshold: options.threshold, clip: options.clip ?? 4 })
    this.direction = options.direction ?? 'up'
    checkStdConfidence(operator, options.stdConfidence)
    this.stdFactor = options.stdConfidence === undefined ? 1 : stdUpperBoundFactor(options.warmupWindows, options.stdConfidence)
  }

  initial(): CusumWindowsState {
    return { n: 0, mean: 0, variance: 0, upRaw: 0, downRaw: 0, cusum: this.cusum.initial() }
  }

  private std(state: CusumWindowsState): number {
    return Math.max(Math.sqrt(state.variance) * this.stdFactor, this.options.minStd ?? 1e-9, (this.options.minRelativeStd ?? 0) * Math.abs(state.mean))
  }

  step(state: CusumWindowsState, value: number): { state: CusumWindowsState; verdict: CusumWindowsVerdict } {
    if (state.n < this.options.warmupWindows) {
      // Welford over the warm-up: variance kept as the sample variance (n - 1) of the windows so far.
      const n = state.n + 1
      const delta = value - state.mean
      const mean = state.mean + delta / n
      const variance = n < 2 ? 0 : (state.variance * (state.n - 1) + delta * (value - mean)) / (n - 1)
      const next = { ...state, n, mean, variance }
      return { state: next, verdict: { ready: false, observed: value, baselineMean: mean, baselineStd: this.std(next), residual: 0, shift: undefined, score: 0 } }
    }
    const std = this.std(state)
    const residual = (value - state.mean) / std
    const stepped = this.cusum.step(state.cusum, residual)
    let { mean, variance } = state
    const shift = stepped.verdict.shift
    const reported = shift !== undefined && (this.direction === 'both' || shift.direction === this.direction) ? shift : undefined
    let upRaw = stepped.state.upRows > 0 ? state.upRaw + residual : 0
    let downRaw = stepped.state.downRows > 0 ? state.downRaw + residual : 0
    if (shift !== undefined) {
      // The new level is the baseline from here on: moved by the run's mean residual, unclipped
      // (the CUSUM's own estimate is clipped, so it understates a large step and would confirm it
      // again at the next windows).
      const raw = (shift.direction === 'up' ? state.upRaw : state.downRaw) + residual
      mean += (raw / shift.rows) * std
      upRaw = 0
      downRaw = 0
    } else if ((this.options.alpha ?? 0) > 0 && stepped.state.up === 0 && stepped.state.down === 0) {
      const alpha = this.options.alpha!
      const diff = value - mean
      mean += alpha * diff
      variance = (1 - alpha) * (variance + alpha * diff * diff)
    }
    return {
      state: { n: state.n, mean, variance, upRaw, downRaw, cusum: stepped.state },
      verdict: { ready: true, observed: value, baselineMean: state.mean, baselineStd: std, residual, shift: reported, score: reported === undefined ? 0 : stepped.verdict.score },
    }
  }
}

export function cusumCore(options: CusumCoreOptions): CusumWindowsCore {
  return new CusumWindowsCore(options)
}

/**
 * `<name>-window`, `<name>-final`, `<name>` (store `<name>-state`), as zScoreWindows. One
 * AnomalyEvent per confirmed shift, at the close of the window confirming it: anomaly_id =
 * anomalyId(id, key, windowStart); score and severity from the CUSUM sum / threshold (severity.ts:
 * at least 'low', i.e. info, unless a detector's floor raises it); metrics {baseline_value,
 * observed_value, deviation: the shift's mean residual, threshold}; context {window_start, window_end}.
 */
export function cusumWindows<V>(stream: KStream<string, V>, options: CusumWindowsOptions<V>): KStream<string, AnomalyEvent> {
  const operator = `cusumWindows('${options.name ?? options.id}')`
  checkDetectorId(operator, options.id)
  const core = new CusumWindowsCore(options)
  const what = `${options.aggregate} of ${options.metricName ?? 'metric'}`
  const graceMs = options.window.graceMs
  const sizeMs = options.window.sizeMs
  return windowedDetector<V, CusumWindowsState, CusumWindowsVerdict>(stream, {
    operator,
    name: options.name ?? options.id,
    window: options.window,
    aggregate: options.aggregate,
    metric: options.metric,
    core,
    maxFill: 0,
    toEvent(verdict, key, window) {
      const shift = verdict.shift
      if (shift === undefined) return undefined
      const side = shift.direction === 'up' ? 'above' : 'below'
      const since = window.end - shift.rows * sizeMs
      return anomalyEvent(options, {
        key,
        idTime: window.start,
        detectedAt: window.end + graceMs,
        detectorType: 'statistical',
        severity: anomalySeverity(severityOf(verdict.score >= 1 ? Number.POSITIVE_INFINITY : verdict.score / (1 - verdict.score), 1) ?? 'low'),
        score: verdict.score,
        title: `${what} shifted ${side} baseline (CUSUM, ${Math.abs(shift.size).toFixed(2)} std over ${shift.rows} windows)`,
        description: `${what} for ${key} has stayed ${side} its baseline ${verdict.baselineMean} (std ${verdict.baselineStd}) since about ${new Date(since).toISOString()}: ${shift.rows} windows averaging ${shift.size.toFixed(2)} std, CUSUM threshold ${options.threshold} std (allowance ${options.drift}); this window ${verdict.observed}.`,
        metrics: { baseline_value: verdict.baselineMean, observed_value: verdict.observed, deviation: shift.size, threshold: options.threshold },
        windowStart: window.start,
        windowEnd: window.end,
      })
    },
  })
}
