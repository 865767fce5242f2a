/**
 * The one detector configuration used on every NAB series (and any corpus given with --data), built
 * only from the cores in operators/detectors. Each series (one key) gets its own instance;
 * `step(value)` returns the score of the row just arrived, computed from the rows up to and
 * including it.
 *
 * Components, each scoring exactly 0.5 at its own threshold (operators/detectors/severity.ts):
 * - point: z-score of the value against a rolling mean/std of the previous `baselineRows` rows
 *   (anomalous rows winsorised into it, so a burst of spikes moves it little); catches spikes and dips;
 * - level: the mean of the last `levelRows` rows against the series' own tails of such means (a tail
 *   fence, as the point one, never nearer than `levelThreshold` spreads of a second rolling
 *   baseline of those means); catches short sustained excursions that single rows do not;
 * - change: two-sided CUSUM of the point residual (clipped, so a lone spike cannot confirm it);
 *   catches shifts of one or two spreads and drifts; a confirmed shift moves both baselines to the
 *   new level, so the new level is one alarm, not a stream of them;
 * - distribution: the relative-entropy test of the last `distributionWindow` rows against every
 *   distribution seen before (after NAB's relativeEntropy detector, with a causal bin range);
 *   catches changes of shape (variance, flattening, new regimes).
 * The row's score is the largest of them. A hysteresis gate then lets one alarm through per
 * excursion: after an alarm, the next passes only once the score has stayed below `rearmBelow` for
 * `calmRows` rows; held-back rows score at most 0.49, under the alarm level. Unlike a fixed
 * hold-back, this does not limit how many separate anomalies a series can have.
 *
 * What the detector knows in advance about a series is only its probation length, which NAB hands
 * to every detector (15% of the file's rows, at most 750): it sets the warm-up (no verdict before
 * min(probation, baselineRows) rows) and the distribution test's bin range (from the probation rows).
 */
import { type CusumState, CusumDetector } from '../../operators/detectors/cusum.js'
import { DistributionShiftDetector, type DistributionShiftState } from '../../operators/detectors/distribution-shift.js'
import { type HysteresisGateState, HysteresisGate } from '../../operators/detectors/hysteresis-gate.js'
import { SeasonalBaseline, type SeasonalBaselineState } from '../../operators/detectors/seasonal-baseline.js'
import { type RollingState, rollingBaseline } from '../../operators/detectors/baseline.js'
import { TailFenceDetector, type TailFenceState } from '../../operators/detectors/tail-fence.js'
import { ZScoreDetector, type ZScoreState } from '../../operators/detectors/zscore.js'

export interface NabDetectorConfig {
  /** Rows in the point and level baselines. */
  readonly baselineRows: number
  /** |z| of a single row that makes an alarm. */
  readonly pointThreshold: number
  /**
   * Rows averaged by the level component, and the |z| of that average that makes an alarm: with the
   * level fence on, the fence's floor (the mean must also lie beyond it).
   */
  readonly levelRows: number
  readonly levelThreshold: number
  /**
   * Level fence: the `levelRows` mean alarms beyond median ± `levelTailFactor` × (the `tailQuantile`
   * quantile of the earlier such means − median), per side, never nearer than `levelThreshold`
   * spreads. A fixed 4-spread threshold on a mean of 6 rows assumes light tails; on heavy-tailed or
   * bursty series (NAB's tweet volumes) such means cross it every few hundred rows. The fence makes the threshold a tail probability of the series' own means, as the point
   * fence does for single rows. 0 turns it off (the z-score alone decides); the leave-one-out grid
   * moves it with `tailFactor` (one "how far beyond its own tails" knob for both fences).
   */
  readonly levelTailFactor: number
  /** CUSUM decision threshold h on the point residual (allowance 2, residual clipped at 6). */
  readonly changeThreshold: number
  /** Rows in the distribution component's current window; bins of its histogram; test level. */
  readonly distributionWindow: number
  readonly distributionBins: number
  readonly distributionSignificance: 0.1 | 0.05 | 0.025 | 0.01 | 0.005
  /**
   * Tail fence (operators/detectors/tail-fence.ts) over the same rows: a row alarms beyond
   * median ± `tailFactor` × (its `tailQuantile` quantile − median), never nearer than `tailFloor`
   * spreads of the point baseline. `tailFactor` 0 turns it off.
   */
  readonly tailQuantile: number
  readonly tailFactor: number
  readonly tailFloor: number
  /**
   * Seasonal component: an hour-of-day profile (operators/detectors/seasonal-baseline.ts) whose
   * residual, in slot spreads, goes through a second tail fence (same quantile and factor, floored at
   * `tailFloor`); it scores only while the profile explains at least `seasonalStrength` of the variance
   * (measured online), so it cannot fire on a series without a daily cycle. 1 turns it off.
   */
  readonly seasonalStrength: number
  /**
   * Rows the seasonal fence flags stay out of that fence's window (TailFenceDetector `learnBeyond:
   * 'exclude'`, which also judges what it learns during its warm-up) and do not teach the
   * hour-of-day profile's spreads (they still move its levels, so a lasting change of the cycle is
   * learned). Let in clipped at the fence (false), bursts in more than 1% of a side's rows become the
   * fence's tail and it doubles until it stands past them: on diurnal traffic with bursts in 3% of
   * the rows 7-11 of 51 were caught (test/unit/bench/nab/detector.test.ts), excluded 42-43. The point
   * and level fences keep clipping: excluding there cost NAB 7 points (bench/nab/README.md, "Fences
   * that do not learn what they flag"). A slot whose values stray beyond 3 of its spreads more
   * often than any distribution with that spread allows (Markov's bound, 27%) learns its spread
   * from them all the same (seasonal-baseline.ts `clippedShareBound`): the spread is then wrong,
   * not the values, e.g. a cycle that steps inside an hour, flagged at the step every day without it.
   */
  readonly seasonalExcludeFlagged: boolean
  /** The gate reopens after `calmRows` consecutive rows scoring below `rearmBelow`. */
  readonly rearmBelow: number
  readonly calmRows: number
}

export const NAB_CONFIG: NabDetectorConfig = {
  baselineRows: 2000,
  pointThreshold: 10,
  levelRows: 6,
  levelThreshold: 4,
  levelTailFactor: 2,
  changeThreshold: 30,
  distributionWindow: 30,
  distributionBins: 5,
  distributionSignificance: 0.01,
  tailQuantile: 0.99,
  tailFactor: 2,
  tailFloor: 3,
  seasonalStrength: 0.6,
  seasonalExcludeFlagged: true,
  rearmBelow: 0.45,
  calmRows: 25,
}

/**
 * CUSUM allowance and clip, in residual spreads. k = 2, not the textbook 0.5: NAB's residuals are
 * autocorrelated (a z against a 2000-row baseline wanders), and k = 0.5 or 1 confirmed "shifts" on
 * the series without anomalies (chosen on NAB, 3 values tried). The clip keeps one spike from
 * confirming a change: each row adds at most clip - k.
 */
const CHANGE_DRIFT = 2
const CHANGE_CLIP = 6

/**
 * Seasonal profile: each hour-of-day slot's EWMA weighs a new value 0.05 (about 20 values: under
 * two days of 5-minute rows, three weeks of hourly ones) and gives an expectation after 24 values.
 * Fixed in advance, not tuned.
 */
const SEASON_ALPHA = 0.05
const SEASON_MIN_VALUES = 24
/** Values enter their slot clipped to expected ± 3 slot spreads, so spikes barely teach it. */
const SEASON_CLIP = 3
/** Expect the line between the two nearest hourly slot centres (seasonal-baseline.ts `interpolate`). */
const SEASON_INTERPOLATE = true

/**
 * How NAB_CONFIG was chosen, stated in the report: it was tuned on NAB itself, so the in-sample
 * figure is not a held-out test for it; the leave-one-category-out figure (--loco) is.
 */
export const TUNING_NOTE =
  'Chosen on a combined objective declared before the changes it judged: the mean of the NAB leave-one-category-out score and the synthetic KPI-like corpus ' +
  '(bench/nab/synthetic-corpus.ts, seeds 20261204, 1, 2; standard profile, fixed threshold 0.5; `npx tsx bench/nab/objective.ts`). ' +
  'The point/level/distribution/CUSUM settings are the previous configuration\'s (tuned on NAB alone, about 85 runs). New in this one: the tail fence ' +
  '(factor 2, 2.5 and 3 tried; clipping at the fence or at the quantile tried), the seasonal component (strength gate 0.6 fixed in advance; 0.4 tried once; interpolated profile taken: synthetic +5.1, NAB LOCO -1.75), ' +
  'the point baseline clipped at the fence, and calmRows 25 (25 and 50 tried), about 12 runs of the objective in all. NAB alone prefers factor 2.5 (in-sample 64.6) and calmRows 50; the synthetic corpus prefers 2 and 25; the objective took the latter. ' +
  'Synthetic seeds 3, 4, 5 were never used for a choice. Then (h11n) the level fence (levelTailFactor 2, the tail factor, not tuned; factor tied to or apart from tailFactor in the LOCO grid: tied taken, LOCO 63.22 vs 63.07), and after a confirmed change the level fence keeps the rows since it began unmoved (applied to the level fence only, or to it and the point fence: objective 73.91 vs 73.84, LOCO 64.60 vs 64.46, in-sample 64.97 vs 63.91; level only taken): in-sample 61.35 -> 64.97, LOCO 65.71 -> 64.60, synthetic 83.43 -> 83.22, four objective runs in all. Then (h11d, for dense anomalies) the seasonal fence leaves out the rows it flags, and they teach the profile levels but not its spreads (seasonalExcludeFlagged; no new constant; four objective runs: excluding on all three fences 73.92 with in-sample 57.87, not taken; seasonal only, profile skipping flagged rows, without judging the warm-up 74.46, with it 75.85; flagged rows then allowed to move the profile levels, after a test showed a lasting change of the cycle was never learned, 75.89, taken): in-sample 64.97 -> 64.27, LOCO 64.60 -> 66.98, synthetic 83.22 -> 84.79. Then (h11f) a profile slot clipping more of its values than Markov\'s inequality allows for its spread (1 / (3 sqrt(pi/2)) = 27% at clip 3: a bound, not a tuned constant) learns its spread from them, unclipped, though the fence flagged them (diagnosed on art_daily_flatmiddle, NAB in-sample: its 18:00 step alarmed daily; the spread taught clipped at 3 spreads, as other rows, still did, checked on that file alone; two objective runs: spread taught unclipped 76.45, spread and level unclipped 76.45, tied, the smaller change taken): in-sample 64.27 -> 65.65, LOCO 66.98 -> 68.11, synthetic 84.79 unchanged. Nothing is tuned per file. The LOCO figure re-selects the tail factor, CUSUM threshold and calm rows (locoGrid) without the category it scores.'

/** The neighbours of a configuration: each knob moved one step either way (for the sensitivity table). */
export function neighbours(c: NabDetectorConfig): { readonly change: string; readonly config: NabDetectorConfig }[] {
  const steps: [keyof NabDetectorConfig, readonly (number | string)[]][] = [
    ['baselineRows', [1000, 4000]],
    ['pointThreshold', [c.pointThreshold * 0.8, c.pointThreshold * 1.25]],
    ['tailFactor', [c.tailFactor * 0.8, c.tailFactor * 1.25]],
    ['seasonalStrength', [0.4, 0.8]],
    ['levelRows', [3, 10]],
    ['levelThreshold', [c.levelThreshold * 0.75, c.levelThreshold * 1.25]],
    ['levelTailFactor', [0, c.levelTailFactor * 1.25]],
    ['changeThreshold', [c.changeThreshold * 0.5, c.changeThreshold * 2]],
    ['distributionWindow', [20, 40]],
    ['distributionSignificance', [0.05, 0.005]],
    ['rearmBelow', [0.2, 0.4]],
    ['calmRows', [Math.max(1, Math.round(c.calmRows / 2)), c.calmRows * 2]],
  ]
  return steps.flatMap(([key, values]) => values.map((v) => ({ change: `${key} ${String(c[key])} -> ${v}`, config: { ...c, [key]: v } as NabDetectorConfig })))
}

/**
 * The declared grid for leave-one-category-out (loco.ts): the knobs most likely to differ between
 * kinds of data — how far beyond its own tails a single row must be (the tail fence's factor), how
 * much evidence confirms a change, how long the score must stay calm before the next alarm — two or
 * three values each, around the given configuration. Small on purpose: 12 passes over the corpus,
 * and a large grid would let the selection overfit the other categories instead.
 */
export function locoGrid(c: NabDetectorConfig): NabDetectorConfig[] {
  return [2, 2.5, 3].flatMap((tailFactor) =>
    [15, 30].flatMap((changeThreshold) =>
      [c.calmRows, 2 * c.calmRows].map((calmRows) => ({ ...c, tailFactor, levelTailFactor: c.levelTailFactor > 0 ? tailFactor : 0, changeThreshold, calmRows })),
    ),
  )
}

export const LOCO_GRID: readonly NabDetectorConfig[] = locoGrid(NAB_CONFIG)

/** What a detector may know about a series before it starts. */
export interface SeriesInfo {
  readonly probation: number
}

export interface SeriesScorer {
  /** The score in [0, 1] of the row just arrived (its time in ms since the epoch, UTC). */
  step(value: number, timeMs: number): number
}

/** Score at and above which a row is an alarm: every component scores 0.5 at its threshold. */
export const ALARM_LEVEL = 0.5

/** Everything a series' scorer remembers between rows, as plain JSON (a state store can hold it). */
export interface NabScorerState {
  readonly point: ZScoreState<RollingState>
  readonly tail: TailFenceState
  readonly season: SeasonalBaselineState
  readonly seasonTail: TailFenceState
  readonly level: ZScoreState<RollingState>
  readonly levelTail: TailFenceState
  readonly recent: RollingState
  readonly change: CusumState
  readonly distribution: DistributionShiftState
  readonly gate: HysteresisGateState
}

/**
 * The scorer with its state passed in and out, for a processor keeping it in a store. The returned
 * state shares (and has updated) the input's rolling rings: keep only the returned state.
 */
export interface NabScorerCore {
  initial(): NabScorerState
  step(state: NabScorerState, value: number, timeMs: number): { state: NabScorerState; score: number }
}

export function createNabScorerCore(config: NabDetectorConfig, info: SeriesInfo): NabScorerCore {
  const minHistory = Math.max(10, Math.min(info.probation, config.baselineRows))
  // A flat baseline would make the smallest wiggle an infinite z: floor the spread at 0.1% of |median|.
  const zOptions = { direction: 'both', minHistory, minStd: 1e-6, minRelativeStd: 1e-3 } as const
  const pointBaseline = rollingBaseline(config.baselineRows)
  const levelBaseline = rollingBaseline(config.baselineRows)
  const point = new ZScoreDetector({ ...zOptions, baseline: pointBaseline, threshold: config.pointThreshold })
  const level = new ZScoreDetector({ ...zOptions, baseline: levelBaseline, threshold: config.levelThreshold })
  const levelTailOn = config.levelTailFactor > 0
  const levelTail = new TailFenceDetector({ size: config.baselineRows, tail: config.tailQuantile, factor: Math.max(1, config.levelTailFactor), minHistory })
  const tail = new TailFenceDetector({ size: config.baselineRows, tail: config.tailQuantile, factor: Math.max(1, config.tailFactor), minHistory })
  const tailOn = config.tailFactor > 0
  const season = new SeasonalBaseline({ period: 'day', alpha: SEASON_ALPHA, minCycles: SEASON_MIN_VALUES, clip: SEASON_CLIP, interpolate: SEASON_INTERPOLATE })
  const seasonTail = new TailFenceDetector({ size: config.baselineRows, tail: config.tailQuantile, factor: Math.max(1, config.tailFactor), minHistory, learnBeyond: config.seasonalExcludeFlagged ? 'exclude' : 'fence' })
  const seasonOn = config.seasonalStrength < 1
  const recent = rollingBaseline(config.levelRows)
  const change = new CusumDetector({ drift: CHANGE_DRIFT, threshold: config.changeThreshold, clip: CHANGE_CLIP })
  const distribution = new DistributionShiftDetector({
    windowSize: config.distributionWindow,
    bins: config.distributionBins,
    significance: config.distributionSignificance,
    rareCount: 1,
    rangeRows: Math.max(config.distributionWindow, info.probation),
    rangeMargin: 0,
  })
  const gate = new HysteresisGate({ alarmAt: ALARM_LEVEL, rearmBelow: config.rearmBelow, calmRows: config.calmRows })
  return {
    initial: () => ({ point: point.initial(), tail: tail.initial(), season: season.initial(), seasonTail: seasonTail.initial(), level: level.initial(), levelTail: levelTail.initial(), recent: recent.initial(), change: change.initial(), distribution: distribution.initial(), gate: gate.initial() }),
    step(state, value, timeMs) {
      // The fence first, floored at the point baseline's spread before this row; a row beyond the
      // fence enters the point baseline clipped at it, so dense spikes do not inflate that spread.
      const ps = pointBaseline.stats(state.point.baseline)
      const floor = ps.count >= minHistory ? config.tailFloor * Math.max(ps.std, zOptions.minStd, zOptions.minRelativeStd * Math.abs(ps.mean)) : 0
      const t = tailOn ? tail.step(state.tail, value, floor) : { state: state.tail, verdict: { score: 0, anomalous: false, median: 0, ratio: 0, distance: 0 } }
      const p = point.step(state.point, value, t.verdict.anomalous ? t.verdict.median + Math.sign(t.verdict.ratio) * t.verdict.distance : undefined)
      const recentState = recent.update(state.recent, value)
      const mean = recent.stats(recentState).mean
      // The level fence's floor is levelThreshold spreads of the means' baseline before this row.
      const ls = levelBaseline.stats(state.level.baseline)
      const levelFloor = ls.count >= minHistory ? config.levelThreshold * Math.max(ls.std, zOptions.minStd, zOptions.minRelativeStd * Math.abs(ls.mean)) : 0
      const lt = levelTailOn ? levelTail.step(state.levelTail, mean, levelFloor) : undefined
      const l = level.step(state.level, mean)
      const levelScore = lt ? lt.verdict.score : l.verdict.score
      let seasonState = state.season
      const c = p.verdict.ready ? change.step(state.change, p.verdict.z) : { state: state.change, verdict: { score: 0, shift: undefined } }
      if (c.verdict.shift) {
        // Move both baselines to the new level: from here on it is normal, not a stream of alarms.
        const delta = c.verdict.shift.size * p.verdict.baselineStd
        pointBaseline.shiftLevel(p.state.baseline, delta)
        levelBaseline.shiftLevel(l.state.baseline, delta)
        // The level fence keeps the means since the change began where they are (already at the new
        // level): moved too, they would sit a shift beyond it, and on a level that shifts every few
        // hundred rows they pile up in its tail and widen it past the next shift. The point fence
        // moves every row, as before: keeping its run too was measured (bench/nab/README.md) and
        // scored lower on NAB LOCO and in-sample, though higher on dense shifts.
        if (lt) levelTail.shiftLevel(lt.state, delta, c.verdict.shift.rows)
        if (tailOn) tail.shiftLevel(t.state, delta)
        if (seasonOn) seasonState = { ...seasonState, level: seasonState.level.map((x) => x + delta) }
      }
      let seasonTailState = state.seasonTail
      let seasonal = 0
      let seasonFlagged = false
      if (seasonOn) {
        const e = season.expect(seasonState, timeMs)
        if (e.ready) {
          // The residual's fence learns on every series; it only scores on a clearly seasonal one.
          // In slot spreads: a quiet night hour and a busy afternoon one are judged on their own noise.
          const spread = Math.max(e.spread, 1e-3 * Math.abs(e.expected), 1e-9)
          const r = seasonTail.step(seasonTailState, (value - e.expected) / spread, config.tailFloor)
          seasonTailState = r.state
          seasonFlagged = r.verdict.anomalous
          if (e.strength >= config.seasonalStrength) seasonal = r.verdict.score
        }
        // A row its fence flags still moves its slot's level (clipped at 3 slot spreads, as every
        // row), so a lasting change of the cycle is learned, but not the slot's spread: dense bursts
        // would widen it and so shrink every later residual.
        seasonState = season.update(seasonState, timeMs, value, { spread: !(seasonFlagged && config.seasonalExcludeFlagged) })
      }
      const d = distribution.step(state.distribution, value)
      const score = Math.max(p.verdict.score, t.verdict.score, seasonal, levelScore, c.verdict.score, d.verdict.score)
      const g = gate.offer(state.gate, score)
      const next: NabScorerState = { point: p.state, tail: t.state, season: seasonState, seasonTail: seasonTailState, level: l.state, levelTail: lt ? lt.state : state.levelTail, recent: recentState, change: c.state, distribution: d.state, gate: g.state }
      return { state: next, score: g.passed ? score : Math.min(score, ALARM_LEVEL - 0.01) }
    },
  }
}

export function createNabScorer(config: NabDetectorConfig, info: SeriesInfo): SeriesScorer {
  const core = createNabScorerCore(config, info)
  let state = core.initial()
  return {
    step(value: number, timeMs: number): number {
      const stepped = core.step(state, value, timeMs)
      state = stepped.state
      return stepped.score
    },
  }
}
