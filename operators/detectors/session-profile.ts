/**
 * Behavioural profile of an entity (e.g. a user): per-feature running mean and variance (Welford)
 * over its closed sessions. A new session is compared feature by feature with the entity's own
 * profile once it has `minSessions` sessions, before that with the population's (every entity's
 * sessions), so a newcomer is judged against what is normal for everyone instead of not at all.
 *
 * The session is anomalous when its most deviating feature has |z| >= threshold; the verdict names
 * the features in order of |z|. Both profiles then learn the session, anomalous features clipped to
 * mean ± threshold·std of the reference (the same poisoning rule as the z-score detector).
 * `judgeOpen` judges a session still in progress against the same reference, learning nothing.
 *
 * A reference grades a feature only once its values spread (e.g. five one-call sessions all have a
 * rate of 1 request a minute: a std of 0 would make any other rate an infinite z). Until then the
 * entity's feature is judged against the population's, and a population without spread does not
 * judge that feature at all, unless a floor (`minStd`, `minRelativeStd`) was configured: the spread
 * the caller vouches for. A verdict is critical only when it is critical against the 99% upper bound
 * of the reference's std (a young reference's sample std understates the true one) and the spread
 * was measured, not floored; otherwise it is at most high: a young or degenerate reference never
 * concludes enough to act on automatically.
 */
import { SEVERITY_BOUNDS, type Severity, anomalyScore, severityOf } from './severity.js'
import { stdUpperBoundFactor } from './std-bound.js'
import { type RunningStats, EMPTY_STATS, addSample, stdOf } from './welford.js'

export interface Profile {
  readonly sessions: number
  readonly features: Readonly<Record<string, RunningStats>>
}

export interface SessionProfileConfig {
  readonly features: readonly string[]
  readonly threshold: number
  /** Sessions an entity needs before its own profile is the reference. */
  readonly minSessions: number
  /** Sessions the population needs before it can be a reference (default: minSessions). */
  readonly minPopulationSessions?: number
  /** Features reported in the verdict (default 3). */
  readonly topK?: number
  /** Floors of a feature's standard deviation, absolute and relative to |mean|. */
  readonly minStd?: number
  readonly minRelativeStd?: number
}

export interface FeatureDeviation {
  readonly feature: string
  readonly observed: number
  readonly mean: number
  readonly std: number
  readonly z: number
  /** z against the upper confidence bound of the reference's std; 0 when the spread was floored. */
  readonly confidentZ: number
}

type Reference = 'entity' | 'population' | 'none'

/** Confidence of the std upper bound a critical verdict must hold against (fixed a priori). */
const CRITICAL_STD_CONFIDENCE = 0.99
/** A std at or below this fraction of |mean| is rounding, not spread (clipped learning leaves such). */
const UNMEASURED_RELATIVE_STD = 1e-6

export interface SessionVerdict {
  /** The reference of the most deviating feature (features fall back to the population's one by one). */
  readonly reference: Reference
  readonly anomalous: boolean
  /** The `topK` most deviating features, largest |z| first. */
  readonly deviations: readonly FeatureDeviation[]
  readonly score: number
  readonly severity: Severity | undefined
}

export const EMPTY_PROFILE: Profile = { sessions: 0, features: {} }

export class SessionProfileDetector {
  constructor(readonly config: SessionProfileConfig) {
    if (config.features.length === 0) throw new Error('session profile needs at least one feature')
    if (!(config.threshold > 0)) throw new Error(`session profile threshold must be > 0, got ${config.threshold}`)
  }

  step(entity: Profile, population: Profile, session: Readonly<Record<string, number>>): { entity: Profile; population: Profile; verdict: SessionVerdict } {
    const { verdict, learned } = this.compare(entity, population, session, 'both')
    const features = this.config.features
    return { entity: learn(entity, learned, features), population: learn(population, learned, features), verdict }
  }

  /**
   * Judges a session that is still open, learning nothing. Its counts (requests, tokens, cost,
   * models, duration) can only grow until it closes, so only deviations above the reference mean are
   * evidence yet: a partial session is short of every mean by construction. Deviations are ranked
   * by z, largest first, and the verdict is anomalous when the largest z >= threshold.
   */
  judgeOpen(entity: Profile, population: Profile, session: Readonly<Record<string, number>>): SessionVerdict {
    return this.compare(entity, population, session, 'up').verdict
  }

  private compare(
    entity: Profile,
    population: Profile,
    session: Readonly<Record<string, number>>,
    direction: 'both' | 'up',
  ): { verdict: SessionVerdict; learned: Record<string, number> } {
    const { features, threshold, minSessions } = this.config
    for (const f of features) {
      if (typeof session[f] !== 'number' || Number.isNaN(session[f])) throw new Error(`session feature "${f}" must be a number, got ${String(session[f])}`)
    }
    const entityGrades = entity.sessions >= minSessions
    const populationGrades = population.sessions >= (this.config.minPopulationSessions ?? minSessions)
    let deviations: (FeatureDeviation & { reference: Reference })[] = []
    const learned: Record<string, number> = {}
    for (const f of features) {
      const x = session[f]!
      learned[f] = x
      const entityStats = entity.features[f] ?? EMPTY_STATS
      const populationStats = population.features[f] ?? EMPTY_STATS
      const reference = entityGrades && this.spreads(entityStats) ? 'entity' : populationGrades && this.spreads(populationStats) ? 'population' : 'none'
      if (reference === 'none') continue
      const stats = reference === 'entity' ? entityStats : populationStats
      const sampleStd = stdOf(stats)
      const floor = Math.max(this.config.minStd ?? 1e-9, (this.config.minRelativeStd ?? 0) * Math.abs(stats.mean))
      const std = Math.max(sampleStd, floor)
      const z = (x - stats.mean) / std
      const confidentZ = sampleStd < floor ? 0 : (x - stats.mean) / Math.max(sampleStd * stdUpperBoundFactor(stats.count, CRITICAL_STD_CONFIDENCE), floor)
      deviations.push({ feature: f, observed: x, mean: stats.mean, std, z, confidentZ, reference })
      if (Math.abs(z) >= threshold) learned[f] = stats.mean + Math.sign(z) * threshold * std
    }
    const size = direction === 'up' ? (d: FeatureDeviation) => d.z : (d: FeatureDeviation) => Math.abs(d.z)
    deviations.sort((a, b) => size(b) - size(a))
    deviations = deviations.slice(0, this.config.topK ?? 3)
    const first = deviations[0]
    const top = Math.max(0, first === undefined ? 0 : size(first))
    const anomalous = top >= threshold
    // Critical only if still critical against the std's upper bound; else at most high.
    const confident = first !== undefined && Math.abs(first.confidentZ) >= SEVERITY_BOUNDS.critical * threshold
    const graded = confident ? top : Math.min(top, SEVERITY_BOUNDS.high * threshold)
    const verdict: SessionVerdict = {
      reference: first?.reference ?? (entityGrades ? 'entity' : populationGrades ? 'population' : 'none'),
      anomalous,
      deviations: deviations.map(({ reference: _, ...d }) => d),
      score: anomalyScore(graded, threshold),
      severity: anomalous ? severityOf(graded, threshold) : undefined,
    }
    return { verdict, learned }
  }

  /** Whether a reference's feature can grade: its values spread, or the caller configured a floor. */
  private spreads(stats: RunningStats): boolean {
    if (stats.count < 2) return false
    if (this.config.minRelativeStd !== undefined || this.config.minStd !== undefined) return true
    return stdOf(stats) > UNMEASURED_RELATIVE_STD * Math.abs(stats.mean)
  }
}

function learn(profile: Profile, values: Readonly<Record<string, number>>, features: readonly string[]): Profile {
  const next: Record<string, RunningStats> = { ...profile.features }
  for (const f of features) next[f] = addSample(profile.features[f] ?? EMPTY_STATS, values[f]!)
  return { sessions: profile.sessions + 1, features: next }
}
