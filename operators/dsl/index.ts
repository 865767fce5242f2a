/**
 * Detector operators for the DSL: each wraps a core of operators/detectors over state stores and
 * emits AnomalyEvents keyed by the source key. They take a `KStream<string, V>` and return a
 * `KStream<string, AnomalyEvent>` whose serdes are unknown (a `process()` output): pass them at the
 * sink, e.g. `.to('anomalies', { key: Serdes.string(), value: Serdes.avro<AnomalyEvent>(anomalyEventSchema) })`.
 */
export { type AnomalyOutputOptions } from './anomaly-output.js'
export { type LiveProvider } from './live-parameters.js'
export { type WindowAccumulator, type WindowAggregate, WINDOW_AGGREGATES, finalWindowAccumulators, windowValue } from './window-metric.js'
export { type DetectorSlot } from './windowed-detector.js'
export { type BaselineOption, type ZScoreCoreOptions, type ZScoreWindowsOptions, zScoreCore, zScoreWindows } from './zscore-windows.js'
export {
  type CusumCoreOptions,
  type CusumWindowsOptions,
  type CusumWindowsState,
  type CusumWindowsVerdict,
  CusumWindowsCore,
  cusumCore,
  cusumWindows,
} from './cusum-windows.js'
export { type EwmaDeviationCoreOptions, type EwmaDeviationWindowsOptions, ewmaDeviationCore, ewmaDeviationWindows } from './ewma-deviation-windows.js'
export {
  type QuantileAccumulator,
  type QuantileCoreOptions,
  type QuantileSlot,
  type QuantileWindowsOptions,
  quantileCore,
  quantileWindows,
} from './quantile-windows.js'
export { type RatioAccumulator, type RatioWindowsOptions, ratioWindows } from './ratio-windows.js'
export { type EarlySessionVerdicts, type SessionProfilesOptions, sessionProfiles } from './session-profiles.js'
export { type ConsecutiveThresholdOptions, consecutiveThreshold } from './consecutive-threshold.js'
export { type ConsecutiveWindowsOptions, type WindowStreakSlot, consecutiveWindows } from './consecutive-windows.js'
export { type CorrelatedFillOptions, correlatedFill, correlationBuckets } from './correlated-fill.js'
export {
  EMPTY_LOG_PROFILE,
  type LogProfile,
  type SlidingSumOptions,
  type SlidingSumState,
  type SlidingSumVerdict,
  judgeSlidingSum,
  learnProfile,
  profileBound,
  slidingBuckets,
  slidingSum,
} from './sliding-sum.js'
export { type OutlierStreakOptions, type OutlierStreakState, outlierStreak } from './outlier-streak.js'
export { type BinomialBurstOptions, type BinomialBurstState, binomialBurst } from './binomial-burst.js'
export { type ProfileSnapshot, type RecordCusumOptions, type RecordCusumState, recordCusum } from './record-cusum.js'
