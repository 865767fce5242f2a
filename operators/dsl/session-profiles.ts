/**
 * Session behavioural profile as a DSL operator: per entity (the record key, e.g. a user), sessions
 * by inactivity gap; when a session closes its features (requests, tokens, cost, distinct models,
 * error ratio, duration, requests per minute) are compared with the entity's running profile
 * (per-feature mean/variance, in a logged store keyed by the source key), or, while the entity has
 * fewer than `minSessions` sessions, with the population's; an AnomalyEvent names the features that
 * deviate most. Both profiles then learn the session (deviating features damped; see
 * operators/detectors/session-profile.ts).
 *
 * The population is every entity this task has seen (one partition's entities on Kafka: with many
 * entities per partition a fair sample of all). It is kept in memory, loaded from its own logged
 * store (`<name>-population`, one entry) when the task starts and written back at every update.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore, Windowed } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type SessionWindows, type StreamRecord, Stores, Suppressed } from '../../topology/index.js'
import { seedSeverity } from '../detectors/severity.js'
import { type SessionFeature, type SessionRecord, type SessionSummary, SESSION_FEATURES, addToSession, mergeSessions, sessionFeatures } from '../detectors/session-features.js'
import { EMPTY_PROFILE, type Profile, SessionProfileDetector } from '../detectors/session-profile.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'

export interface SessionProfilesOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the operator and store names (default: `id`). */
  readonly name?: string
  readonly sessions: SessionWindows
  /**
   * What a record adds to its session. Its time is the record's event time (the session window's
   * bounds give the session's duration), so no timestamp is asked for here.
   */
  readonly record: (value: V, key: string) => Omit<SessionRecord, 'timestamp'>
  /** Features compared (default: all of SESSION_FEATURES). */
  readonly features?: readonly SessionFeature[]
  /** |z| of the most deviating feature at or beyond which a session is anomalous. */
  readonly threshold: number
  /** Sessions an entity needs before its own profile is the reference. */
  readonly minSessions: number
  /** Sessions the population needs before it can be a reference (default: minSessions). */
  readonly minPopulationSessions?: number
  /** Features named in the anomaly (default 3). */
  readonly topK?: number
  readonly minStd?: number
  readonly minRelativeStd?: number
}

const EMPTY_SESSION: SessionSummary = { requests: 0, tokens: 0, cost: 0, errors: 0, models: [], start: 0, end: 0 }
const POPULATION_KEY = 'population'

class SessionProfileProcessor<V> implements Processor<Windowed<string>, SessionSummary, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private profiles!: KeyValueStore<string, Profile>
  private populationStore!: KeyValueStore<string, Profile>
  private population: Profile = EMPTY_PROFILE

  constructor(
    private readonly options: SessionProfilesOptions<V>,
    private readonly detector: SessionProfileDetector,
    private readonly stores: { profiles: KeyValueStoreDefinition<string, Profile>; population: KeyValueStoreDefinition<string, Profile> },
  ) {}

  async init(context: ProcessorContext<string, AnomalyEvent>): Promise<void> {
    this.context = context
    this.profiles = context.getStateStore(this.stores.profiles)
    this.populationStore = context.getStateStore(this.stores.population)
    for await (const [key, profile] of this.populationStore.all()) if (key === POPULATION_KEY) this.population = profile
  }

  process(record: StreamRecord<Windowed<string>, SessionSummary>): void {
    const { key, window } = record.key
    const session = record.value
    if (session.requests === 0) return
    // The window's bounds are the session's first and last event times (the aggregator has no time).
    const features = sessionFeatures({ ...session, start: window.start, end: window.end })
    const { entity, population, verdict } = this.detector.step(this.profiles.get(key) ?? EMPTY_PROFILE, this.population, features)
    this.profiles.put(key, entity)
    this.population = population
    this.populationStore.put(POPULATION_KEY, population)
    const top = verdict.deviations[0]
    if (!verdict.anomalous || verdict.severity === undefined || top === undefined) return
    const named = verdict.deviations.map((d) => `${d.feature} ${d.observed} (mean ${+d.mean.toPrecision(6)}, z=${d.z.toFixed(2)})`).join('; ')
    const reference = verdict.reference === 'entity' ? `${key}'s own profile` : "the population's profile (too little history of its own)"
    const event = anomalyEvent(
      this.options,
      {
        key,
        idTime: window.start,
        detectedAt: window.end + this.options.sessions.gapMs + this.options.sessions.graceMs,
        detectorType: 'behavioral',
        severity: seedSeverity(verdict.severity),
        score: verdict.score,
        title: `unusual session: ${verdict.deviations.filter((d) => Math.abs(d.z) >= this.options.threshold).map((d) => d.feature).join(', ')}`,
        description: `A session of ${key} (${session.requests} requests) deviated from ${reference}: ${named}; threshold |z| >= ${this.options.threshold}.`,
        metrics: { baseline_value: top.mean, observed_value: top.observed, deviation: top.z, threshold: this.options.threshold },
        windowStart: window.start,
        windowEnd: window.end,
      },
    )
    this.context.forward({ key, value: event, timestamp: record.timestamp, headers: {} })
  }
}

/**
 * `<name>-sessions` (session store), `<name>-final` (suppression buffer), then `<name>` with stores
 * `<name>-profiles` (per entity) and `<name>-population`. One AnomalyEvent per anomalous session,
 * keyed by the entity, when the session closes (stream time >= its last record + gap + grace):
 * anomaly_id = anomalyId(id, key, session start); context {window_start, window_end: the session's
 * first and last record}; metrics: the most deviating feature's {baseline_value: its reference
 * mean, observed_value, deviation: z, threshold}; the description names the top features.
 */
export function sessionProfiles<V>(stream: KStream<string, V>, options: SessionProfilesOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `sessionProfiles('${name}')`
  checkDetectorId(operator, options.id)
  if (options.sessions?.kind !== 'session') throw new Error(`${operator}: 'sessions' must be SessionWindows.withGap(gapMs, { graceMs })`)
  const features = options.features ?? SESSION_FEATURES
  for (const f of features) if (!SESSION_FEATURES.includes(f)) throw new Error(`${operator}: unknown feature '${f}'; features are ${SESSION_FEATURES.join(', ')}`)
  if (!Number.isInteger(options.minSessions) || options.minSessions < 1) throw new Error(`${operator}: 'minSessions' must be an integer >= 1, got ${options.minSessions}`)
  const detector = new SessionProfileDetector({
    features,
    threshold: options.threshold,
    minSessions: options.minSessions,
    ...(options.minPopulationSessions === undefined ? {} : { minPopulationSessions: options.minPopulationSessions }),
    ...(options.topK === undefined ? {} : { topK: options.topK }),
    ...(options.minStd === undefined ? {} : { minStd: options.minStd }),
    ...(options.minRelativeStd === undefined ? {} : { minRelativeStd: options.minRelativeStd }),
  })
  const stores = {
    profiles: Stores.keyValue(`${name}-profiles`, Serdes.string(), Serdes.json<Profile>()),
    // Keyed by a constant, not by the source key: not prefetched; read once, asynchronously, at start.
    population: Stores.keyValue(`${name}-population`, Serdes.string(), Serdes.json<Profile>(), { prefetch: 'none' }),
  }
  const toRecord = options.record
  return stream
    .groupByKey({ key: Serdes.string() })
    .windowedBy(options.sessions)
    .aggregate<SessionSummary>(
      () => EMPTY_SESSION,
      (key, value, session) => addToSession(session.requests === 0 ? undefined : session, { ...toRecord(value, key), timestamp: 0 }),
      (_key, a, b) => (a.requests === 0 ? b : b.requests === 0 ? a : mergeSessions(a, b)),
      { name: `${name}-sessions`, value: Serdes.json<SessionSummary>() },
    )
    .suppress(Suppressed.untilWindowCloses({ name: `${name}-final` }))
    .toStream({ name: `${name}-closed` })
    .process(() => new SessionProfileProcessor(options, detector, stores), { name, stores: [stores.profiles, stores.population] })
}
