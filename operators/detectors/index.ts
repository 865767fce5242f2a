/**
 * Detector cores: Kafka- and DSL-independent, each a small class or function over a plain JSON
 * state, for the DSL operators to wrap over state stores. Scores and severities: severity.ts.
 */
export { type BaselineModel, type BaselineStats, type EwmaState, type RollingState, ewmaBaseline, rollingBaseline } from './baseline.js'
export { type Direction, directed } from './direction.js'
export { type Severity, type AnomalySeverity, SEVERITY_BOUNDS, anomalyScore, deviationRatio, severityOf, anomalySeverity } from './severity.js'
export { type ZScoreConfig, type ZScoreState, type ZScoreVerdict, type ZScoreParams, ZScoreDetector, checkZScoreParams } from './zscore.js'
export {
  type Comparison,
  type StreakAnomaly,
  type StreakConfig,
  type StreakState,
  type StreakParams,
  ConsecutiveThreshold,
  checkStreakParams,
  compare,
} from './streak.js'
export {
  type EwmaDeviationConfig,
  type EwmaDeviationVerdict,
  type EwmaDeviationParams,
  EwmaDeviationDetector,
  checkEwmaDeviationParams,
} from './ewma-deviation.js'
export { type QuantileConfig, type QuantileVerdict, type QuantileParams, WindowedQuantileDetector, checkQuantileParams } from './quantile.js'
export { type RatioConfig, type RatioVerdict, type RatioParams, RatioDetector, checkRatioParams } from './ratio.js'
export { type RunningStats } from './welford.js'
/** @internal Welford's running moments, the detectors' own arithmetic. */
export { EMPTY_STATS, addSample, stdOf } from './welford.js'
export {
  type FeatureDeviation,
  type Profile,
  type SessionProfileConfig,
  type SessionVerdict,
  EMPTY_PROFILE,
  SessionProfileDetector,
} from './session-profile.js'
export {
  type SessionFeature,
  type SessionRecord,
  type SessionSummary,
  SESSION_FEATURES,
  addToSession,
  mergeSessions,
  sessionFeatures,
} from './session-features.js'
export {
  type DistributionShiftConfig,
  type DistributionShiftState,
  type DistributionShiftVerdict,
  DistributionShiftDetector,
  relativeEntropy,
} from './distribution-shift.js'
export { type AlarmGateState, AlarmGate } from './alarm-gate.js'
export { type RobustBaselineModel, type RobustRollingState, NORMAL_IQR, robustRollingBaseline, sortedQuantile } from './robust-baseline.js'
export { type RollingBaselineModel } from './baseline.js'
export { type HysteresisGateConfig, type HysteresisGateState, HysteresisGate } from './hysteresis-gate.js'
export { type CusumConfig, type CusumShift, type CusumState, type CusumVerdict, CusumDetector } from './cusum.js'
export { type SeasonalBaselineConfig, type SeasonalBaselineState, type SeasonalExpectation, SeasonalBaseline } from './seasonal-baseline.js'
export { type AnomalyLikelihoodConfig, type AnomalyLikelihoodState, type AnomalyLikelihoodVerdict, AnomalyLikelihood } from './anomaly-likelihood.js'
export { normalUpperTail } from './normal-tail.js'
export { type TailFenceConfig, type TailFenceState, type TailFenceVerdict, TailFenceDetector } from './tail-fence.js'
export {
  type BinomialBurstConfig,
  type BinomialBurstVerdict,
  type FailureCounts,
  BinomialBurstDetector,
  NO_COUNTS,
  betaBinomialTail,
} from './binomial-burst.js'
