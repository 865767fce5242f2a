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
 */
import { type Severity, anomalyScore, severityOf } from './severity.js'
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
}

export interface SessionVerdict {
  readonly reference: 'entity' | 'population' | 'none'
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
    const reference = entity.sessions >= minSessions ? 'entity' : population.sessions >= (this.config.minPopulationSessions ?? minSessions) ? 'population' : 'none'
    const ref = reference === 'entity' ? entity : population
    let deviations: FeatureDeviation[] = []
    const learned: Record<string, number> = {}
    for (const f of features) {
      const x = session[f]!
      learned[f] = x
      if (reference === 'none') continue
      const stats = ref.features[f] ?? EMPTY_STATS
      const std = Math.max(stdOf(stats), this.config.minStd ?? 1e-9, (this.config.minRelativeStd ?? 0) * Math.abs(stats.mean))
      const z = (x - stats.mean) / std
      deviations.push({ feature: f, observed: x, mean: stats.mean, std, z })
      if (Math.abs(z) >= threshold) learned[f] = stats.mean + Math.sign(z) * threshold * std
    }
    const size = direction === 'up' ? (d: FeatureDeviation) => d.z : (d: FeatureDeviation) => Math.abs(d.z)
    deviations.sort((a, b) => size(b) - size(a))
    deviations = deviations.slice(0, this.config.topK ?? 3)
    const top = Math.max(0, deviations[0] === undefined ? 0 : size(deviations[0]))
    const anomalous = top >= threshold
    const verdict: SessionVerdict = { reference, anomalous, deviations, score: anomalyScore(top, threshold), severity: anomalous ? severityOf(top, threshold) : undefined }
    return { verdict, learned }
  }
}

function learn(profile: Profile, values: Readonly<Record<string, number>>, features: readonly string[]): Profile {
  const next: Record<string, RunningStats> = { ...profile.features }
  for (const f of features) next[f] = addSample(profile.features[f] ?? EMPTY_STATS, values[f]!)
  return { sessions: profile.sessions + 1, features: next }
}
