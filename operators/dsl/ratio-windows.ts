/**
 * Ratio per window as a DSL operator, e.g. errors / requests: per key, the sums of a numerator and
 * a denominator metric per tumbling window; when the window closes with at least `minVolume` in the
 * denominator and numerator / denominator >= `maxRatio`, an AnomalyEvent. Stateless beyond the
 * window aggregate: each window is judged on its own.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import { type KStream, Suppressed, type TimeWindows } from '../../topology/index.js'
import { RatioDetector, type RatioParams, checkRatioParams } from '../detectors/ratio.js'
import { anomalySeverity } from '../detectors/severity.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { LiveParameters, type LiveProvider, problemOf } from './live-parameters.js'
import { checkWindowOptions } from './windowed-detector.js'

export interface RatioWindowsOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the operator and store names (default: `id`). */
  readonly name?: string
  readonly window: TimeWindows
  /** What a record adds to the numerator, e.g. (call) => (call.status === 'error' ? 1 : 0). */
  readonly numerator: (value: V, key: string) => number
  /** What a record adds to the denominator (default 1: records). */
  readonly denominator?: (value: V, key: string) => number
  /** How the ratio is called in titles (default 'ratio'). */
  readonly ratioName?: string
  readonly maxRatio: number
  /** Windows whose denominator is below this are not judged (1 error in 2 requests is no 50% rate). */
  readonly minVolume: number
  /** Read once per closed window: the maxRatio and minVolume in force (see zScoreWindows). */
  readonly live?: LiveProvider<RatioParams>
}

export interface RatioAccumulator {
  readonly numerator: number
  readonly denominator: number
}

/**
 * `<name>-window` (window store), `<name>-final` (suppression buffer), then `<name>`: one
 * AnomalyEvent per anomalous window, keyed by the source key, anomaly_id = anomalyId(id, key,
 * windowStart); metrics {observed_value and deviation: the ratio, threshold: maxRatio,
 * baseline_value: null}; score and severity from ratio / maxRatio.
 */
export function ratioWindows<V>(stream: KStream<string, V>, options: RatioWindowsOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `ratioWindows('${name}')`
  checkDetectorId(operator, options.id)
  checkWindowOptions(operator, options.window, 'sum', options.numerator)
  if (typeof options.numerator !== 'function') throw new Error(`${operator}: 'numerator' must be a function (value, key) => number`)
  if (!(options.maxRatio > 0)) throw new Error(`${operator}: 'maxRatio' must be > 0, got ${options.maxRatio}`)
  if (!(options.minVolume >= 1)) throw new Error(`${operator}: 'minVolume' must be >= 1, got ${options.minVolume}`)
  const detector = new RatioDetector({ maxRatio: options.maxRatio, minVolume: options.minVolume })
  const params = new LiveParameters<RatioParams>(operator, detector.config, options.live, (p) => problemOf(() => checkRatioParams(p)))
  const numerator = options.numerator
  const denominator = options.denominator ?? (() => 1)
  const graceMs = options.window.graceMs
  const what = options.ratioName ?? 'ratio'
  return stream
    .groupByKey({ key: Serdes.string() })
    .windowedBy(options.window)
    .aggregate<RatioAccumulator>(
      () => ({ numerator: 0, denominator: 0 }),
      (key, value, acc) => {
        const n = numerator(value, key)
        const d = denominator(value, key)
        // A record with a non-number part is left out whole, so it cannot skew the ratio.
        return Number.isFinite(n) && Number.isFinite(d) ? { numerator: acc.numerator + n, denominator: acc.denominator + d } : acc
      },
      { name: `${name}-window`, value: Serdes.json<RatioAccumulator>() },
    )
    .suppress(Suppressed.untilWindowCloses({ name: `${name}-final` }))
    .toStream({ name: `${name}-closed` })
    .flatMap(
      (windowed, acc): [string, AnomalyEvent][] => {
        const judged = params.read()
        const verdict = detector.judge(acc.numerator, acc.denominator, judged)
        if (!verdict.anomalous || verdict.severity === undefined) return []
        const { key, window } = windowed
        const event = anomalyEvent(options, {
          key,
          idTime: window.start,
          detectedAt: window.end + graceMs,
          detectorType: 'rule',
          severity: anomalySeverity(verdict.severity),
          score: verdict.score,
          title: `${what} ${verdict.ratio.toFixed(3)} >= ${verdict.threshold}`,
          description: `${what} for ${key} was ${verdict.numerator} / ${verdict.denominator} = ${verdict.ratio} in the window; threshold ${verdict.threshold} with at least ${judged.minVolume} in the denominator.`,
          metrics: { baseline_value: null, observed_value: verdict.ratio, deviation: verdict.ratio, threshold: verdict.threshold },
          windowStart: window.start,
          windowEnd: window.end,
        })
        return [[key, event]]
      },
      { name },
    )
}
