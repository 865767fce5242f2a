/**
 * /detect: judge one value against the current baseline of a key, as the detector would judge a
 * window with that value, without storing anything.
 *
 * The windowed statistical detectors (zscore, ewma, percentile) keep per key a slot in the store
 * `<state name>-state` (operators/dsl: `DetectorSlot` / `QuantileSlot`; the name: detectorStateName); the value is stepped
 * through the same core the operator runs (built by the operators' `*Core` factories from
 * `detectorCoreOptions`, as the topology builds it), on a copy of the slot. The value stands for a
 * window's aggregate (e.g. the mean latency of a window), not a single event.
 */
import { ewmaBaseline, type EwmaState } from '../../../operators/detectors/baseline.js'
import { anomalySeverity, type AnomalySeverity, type Severity } from '../../../operators/detectors/severity.js'
import { ewmaDeviationCore, quantileCore, zScoreCore, type DetectorSlot, type QuantileSlot } from '../../../operators/dsl/index.js'
import type { DetectorConfig, EwmaDetectorConfig, PercentileDetectorConfig, ZScoreDetectorConfig } from '../detectors-config.js'
import { detectorCoreOptions } from '../detection.js'
import { detectorStateName } from '../detector-versions.js'

export type BaselineDetectorConfig = ZScoreDetectorConfig | EwmaDetectorConfig | PercentileDetectorConfig

export const hasBaseline = (detector: DetectorConfig): detector is BaselineDetectorConfig => detector.strategy === 'zscore' || detector.strategy === 'ewma' || detector.strategy === 'percentile'

/** The store a windowed detector keeps its per-key slots in (operators/dsl: `<name>-state`, name = detectorStateName). */
export const slotStoreName = (detector: DetectorConfig): string => `${detectorStateName(detector)}-state`

export interface BaselineSummary {
  readonly mean: number | null
  readonly std: number | null
  /** Windows the baseline has learned (a rolling baseline: at most its size). */
  readonly n: number
  /** Start of the last window the detector judged for this key (ISO-8601). */
  readonly last_window_start: string | null
}

export interface DetectResult {
  readonly detector_id: string
  readonly strategy: BaselineDetectorConfig['strategy']
  readonly key: string
  readonly value: number
  /** False when the key has no baseline yet, or fewer windows than the detector's minHistory. */
  readonly ready: boolean
  readonly anomalous: boolean
  /** In [0, 1], as in anomalies (0.5 at the threshold). */
  readonly score: number
  readonly severity: AnomalySeverity | null
  /** zscore: z; ewma: relative change; percentile: value / limit. Null when not ready. */
  readonly deviation: number | null
  /** zscore: |z| bound; ewma: relative bound; percentile: the limit the value is compared with. */
  readonly threshold: number | null
  readonly baseline: BaselineSummary | null
  /** Why the verdict is not ready, when it is not. */
  readonly reason: string | null
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null)
const severity = (s: Severity | undefined): AnomalySeverity | null => (s === undefined ? null : anomalySeverity(s))
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/**
 * Judges `value` for `key` given its stored slot (undefined when the key has none). Pure: the slot
 * is copied first (a rolling baseline is updated in place by `step`).
 */
export function scoreAgainstBaseline(detector: BaselineDetectorConfig, key: string, value: number, stored: unknown): DetectResult {
  const head = { detector_id: detector.id, strategy: detector.strategy, key, value }
  const notReady = (reason: string, baseline: BaselineSummary | null, threshold: number | null): DetectResult => ({ ...head, ready: false, anomalous: false, score: 0, severity: null, deviation: null, threshold, baseline, reason })
  const slot = stored === undefined ? undefined : (structuredClone(stored) as DetectorSlot<unknown> | QuantileSlot)
  switch (detector.strategy) {
    case 'zscore': {
      const core = zScoreCore(detectorCoreOptions(detector))
      if (slot === undefined) return notReady(`no baseline yet for key '${key}': the detector has not judged a window of it`, null, detector.threshold)
      const state = (slot as DetectorSlot<{ baseline: unknown }>).core
      const stats = core.config.baseline.stats(state.baseline)
      const baseline = { mean: finite(stats.mean), std: finite(stats.std), n: stats.count, last_window_start: isoOrNull(slot.last) }
      const { verdict } = core.step(state, value)
      if (!verdict.ready) return notReady(`the baseline of '${key}' has ${stats.count} windows; the detector judges from ${detector.minHistory}`, baseline, detector.threshold)
      return { ...head, ready: true, anomalous: verdict.anomalous, score: verdict.score, severity: severity(verdict.severity), deviation: finite(verdict.z), threshold: verdict.threshold, baseline: { ...baseline, std: finite(verdict.baselineStd) }, reason: null }
    }
    case 'ewma': {
      const core = ewmaDeviationCore(detectorCoreOptions(detector))
      if (slot === undefined) return notReady(`no baseline yet for key '${key}': the detector has not judged a window of it`, null, detector.threshold)
      const state = (slot as DetectorSlot<EwmaState>).core
      const stats = ewmaBaseline(detector.alpha).stats(state)
      const baseline = { mean: finite(stats.mean), std: finite(stats.std), n: stats.count, last_window_start: isoOrNull(slot.last) }
      const { verdict } = core.step(state, value)
      if (!verdict.ready) return notReady(`the baseline of '${key}' has ${stats.count} windows; the detector judges from ${detector.minHistory}`, baseline, detector.threshold)
      return { ...head, ready: true, anomalous: verdict.anomalous, score: verdict.score, severity: severity(verdict.severity), deviation: finite(verdict.deviation), threshold: verdict.threshold, baseline, reason: null }
    }
    case 'percentile': {
      const core = quantileCore(detectorCoreOptions(detector))
      const state = slot === undefined ? core.initial() : (slot as QuantileSlot).baseline
      const stats = ewmaBaseline(core.config.alpha ?? 0.1).stats(state)
      const baseline = slot === undefined ? null : { mean: finite(stats.mean), std: finite(stats.std), n: stats.count, last_window_start: isoOrNull(slot.last) }
      const { verdict } = core.step(state, [value])
      // With an absolute bound a value is judged from the start; a factor needs the baseline's history.
      if (!Number.isFinite(verdict.limit)) {
        const why = slot === undefined ? `no baseline yet for key '${key}'` : `the baseline of '${key}' has ${stats.count} windows; the factor applies from ${detector.minHistory}`
        return notReady(why, baseline, null)
      }
      return { ...head, ready: true, anomalous: verdict.anomalous, score: verdict.score, severity: severity(verdict.severity), deviation: finite(verdict.ratio), threshold: verdict.limit, baseline, reason: null }
    }
  }
}
