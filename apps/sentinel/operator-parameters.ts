/**
 * How a detector definition becomes its operator's parameters: the core options the topology and
 * the API's /detect build a windowed detector from, and the live part of them (LIVE_PARAMETERS) that
 * a running operator reads per record (operators/dsl/live-parameters.ts), so a new detector version
 * changes them without a restart and without touching the detector's state.
 *
 * A field is live when it only judges values: it changes no state's shape (a baseline's ring size,
 * a window, the key) and no learning rate whose history the state embodies. Everything else in a
 * definition is built into the topology at start and needs a restart (detector-versions.ts).
 */
import type { EwmaDeviationCoreOptions, QuantileCoreOptions, ZScoreCoreOptions } from '../../operators/dsl/index.js'
import type { DetectorConfig, EwmaDetectorConfig, PercentileDetectorConfig, Strategy, ZScoreDetectorConfig } from './detectors-config.js'

/** Per strategy, the definition fields a running operator takes live (the rest of its operator's fields need a restart). */
export const LIVE_PARAMETERS: Readonly<Record<Strategy, readonly string[]>> = {
  zscore: ['threshold', 'direction', 'minHistory', 'stdConfidence'],
  ewma: ['threshold', 'direction', 'minHistory'],
  percentile: ['threshold', 'factor', 'minHistory'],
  ratio: ['threshold', 'minVolume'],
  threshold: ['threshold', 'consecutive'],
  consecutive: ['threshold', 'consecutive'],
  cusum: [],
  'session-profile': [],
  'sliding-sum': [],
  'outlier-streak': [],
  'binomial-burst': [],
  'record-cusum': [],
}

/** The live parameter fields of a running detector: none for a windowed rule (its operator, consecutiveWindows, reads none). */
export function liveParameterFields(detector: DetectorConfig): readonly string[] {
  if ((detector.strategy === 'threshold' || detector.strategy === 'consecutive') && detector.window !== null) return []
  return LIVE_PARAMETERS[detector.strategy]
}

/**
 * The options of the core a windowed detector steps per key (the operators' `*Core` factories take
 * them): shared by the topology and by services that judge a value against a key's stored baseline
 * (the API's /detect), so both build the same core from a DetectorConfig.
 */
export function detectorCoreOptions(detector: ZScoreDetectorConfig): ZScoreCoreOptions
export function detectorCoreOptions(detector: EwmaDetectorConfig): EwmaDeviationCoreOptions
export function detectorCoreOptions(detector: PercentileDetectorConfig): QuantileCoreOptions
export function detectorCoreOptions(
  detector: ZScoreDetectorConfig | EwmaDetectorConfig | PercentileDetectorConfig,
): ZScoreCoreOptions | EwmaDeviationCoreOptions | QuantileCoreOptions {
  switch (detector.strategy) {
    case 'zscore':
      return {
        baseline: { kind: 'rolling', windows: detector.baselineWindows },
        threshold: detector.threshold,
        direction: detector.direction,
        minHistory: detector.minHistory,
        ...(detector.stdConfidence === null ? {} : { stdConfidence: detector.stdConfidence }),
      }
    case 'ewma':
      return { alpha: detector.alpha, threshold: detector.threshold, direction: detector.direction, minHistory: detector.minHistory }
    case 'percentile':
      return {
        p: detector.percentile,
        ...(detector.threshold === null ? {} : { bound: detector.threshold }),
        ...(detector.factor === null ? {} : { factor: detector.factor }),
        minHistory: detector.minHistory,
      }
  }
}

/**
 * The parameters `running`'s operator reads live, as `next` defines them: `next`'s when it is the
 * same kind of operator (same strategy; for rules, per event both), else `running`'s own (a strategy
 * change needs a restart, and until then the running operator keeps judging as it was built).
 * Null for strategies whose operator reads none. A new object per call: called once per version.
 */
export function liveOperatorParameters(running: DetectorConfig, next: DetectorConfig): unknown {
  if (liveParameterFields(running).length === 0) return null
  const source = next.strategy === running.strategy && liveParameterFields(next).length > 0 ? next : running
  switch (source.strategy) {
    case 'zscore':
    case 'ewma':
    case 'percentile':
      return detectorCoreOptions(source as ZScoreDetectorConfig & EwmaDetectorConfig & PercentileDetectorConfig)
    case 'ratio':
      return { maxRatio: source.threshold, minVolume: source.minVolume }
    case 'threshold':
    case 'consecutive':
      return { bound: source.threshold, count: source.consecutive }
    default:
      return null
  }
}
