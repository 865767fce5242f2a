/**
 * Session behavioural profile as a DSL operator: per entity (the record key, e.g. a user), sessions
 * by inactivity gap; when a session closes its features (requests, tokens, cost, distinct models,
 * error ratio, duration, requests per minute) are compared with the entity's running profile
 * (per-feature mean/variance, in a logged store keyed by the source key), or, while the entity has
 * fewer than `minSessions` sessions, with the population's; an AnomalyEvent names the features that
 * deviate most. Both profiles then learn the session (deviating features damped; see
 * operators/detectors/session-profile.ts).
 *
 * With `early`, a session is also judged while it is open, after each of its records once it has
 * enough evidence (`minRecords`, `minDurationMs`): only features above the reference mean count
 * (a partial session falls short of every mean by construction). At most one early anomaly per
 * session, remembered in `<name>-early` until the session closes; the closed session is then learned
 * as usual but not reported again.
 *
 * The population is every entity this task has seen (one partition's entities on Kafka: with many
 * entities per partition a fair sample of all). It is kept in memory, loaded from its own logged
 * store (`<name>-population`, one entry) when the task starts and written back at every update.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore, SessionStore, TimeWindow, Windowed } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type SessionWindows, type StreamRecord, Stores, Suppressed } from '../../topology/index.js'
import { anomalySeverity } from '../detectors/severity.js'
import { type SessionFeature, type SessionRecord, type SessionSummary, SESSION_FEATURES, addToSession, mergeSessions, sessionFeatures } from '../detectors/session-features.js'
import { EMPTY_PROFILE, type Profile, SessionProfileDetector, type SessionVerdict } from '../detectors/session-profile.js'
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
  /** Judge sessions while they are open too (default: only when they close). */
  readonly early?: EarlySessionVerdicts
}

/**
 * When an open session has enough evidence to be judged. Rates over a few records are noise (two
 * calls a second apart are 120 a minute; sessionFeatures floors a rate's span at one minute, so an
 * open session's rate is at most its record count): ask for enough records and span that a normal
 * session's opening minutes do not look like a burst.
 */
export interface EarlySessionVerdicts {
  /** Records the open session needs before it is judged (>= 2). */
  readonly minRecords: number
  /** Time from the session's first to its last record before it is judged (>= 0). */
  readonly minDurationMs: number
  /**
   * Open sessions are judged only while their span is at most this (default: no limit). A scripted
   * burst shows its rate in its opening minutes; a long-lived session (a steady integration that
   * never pauses for `gap`) is then judged at close only, not early against the population.
   */
  readonly maxDurationMs?: number
}

const EMPTY_SESSION: SessionSummary = { requests: 0, tokens: 0, cost: 0, errors: 0, models: [], start: 0, end: 0 }
const POPULATION_KEY = 'population'

interface SessionProfileStores {
  readonly profiles: KeyValueStoreDefinition<string, Profile>
  readonly population: KeyValueStoreDefinition<string, Profile>
  /** Per entity, the sessions (as they were when judged) reported early and not closed yet. */
  readonly early: KeyValueStoreDefinition<string, TimeWindow[]> | undefined
  /** The session aggregate's store, read for the open session of each record (early verdicts). */
  readonly sessions: string
}

const overlaps = (a: TimeWindow, b: TimeWindow): boolean => a.start <= b.end && b.start <= a.end

function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/**
 * Input: closed sessions (keyed by Windowed<entity>, from suppress) and, with early verdicts, the
 * source records themselves (keyed by the entity), each after the session aggregate has added it.
 */
class SessionProfileProcessor<V> implements Processor<Windowed<string> | string, unknown, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private profiles!: KeyValueStore<string, Profile>
  private populationStore!: KeyValueStore<string, Profile>
  private earlyStore: KeyValueStore<string, TimeWindow[]> | undefined
  private sessions: SessionStore<string, SessionSummary> | undefined
  private population: Profile = EMPTY_PROFILE

  constructor(
    private readonly options: SessionProfilesOptions<V>,
    private readonly detector: SessionProfileDetector,
    private readonly stores: SessionProfileStores,
  ) {}

  async init(context: ProcessorContext<string, AnomalyEvent>): Promise<void> {
    this.context = context
    this.profiles = context.getStateStore(this.stores.profiles)
    this.populationStore = context.getStateStore(this.stores.population)
    if (this.stores.early !== undefined) {
      this.earlyStore = context.getStateStore(this.stores.early)
      this.sessions = context.getStateStore<SessionStore<string, SessionSummary>>(this.stores.sessions)
    }
    for await (const [key, profile] of this.populationStore.all()) if (key === POPULATION_KEY) this.population = profile
  }

  process(record: StreamRecord<Windowed<string> | string, unknown>): void {
    if (typeof record.key === 'string') this.judgeOpen(record.key, record.value as V, record.timestamp)
    else this.judgeClosed(record.key, record.value as SessionSummary, record.timestamp)
  }

  /** The open session holding this record, once it has enough evidence and unless already reported. */
  private judgeOpen(key: string, value: V, timestamp: number): void {
    const early = this.options.early
    if (early === undefined || this.sessions === undefined || this.earlyStore === undefined) return
    const streamTime = this.context.streamTime()
    // As the aggregate: a session whose close time has passed is final (a late record was dropped).
    const found = this.sessions.findSessions(key, timestamp, timestamp).find(([s]) => this.options.sessions.closeTime(s) > streamTime)
    if (found === undefined) return
    const [{ start, end }, session] = found
    if (session.requests < early.minRecords || end - start < early.minDurationMs) return
    if (early.maxDurationMs !== undefined && end - start > early.maxDurationMs) return
    const window = { start, end }
    const reported = this.earlyStore.get(key) ?? []
    if (reported.some((w) => overlaps(w, window))) return
    const features = sessionFeatures({ ...session, start, end })
    // The open session is judged, not learned: profiles learn closed sessions only.
    const verdict = this.detector.judgeOpen(this.profiles.get(key) ?? EMPTY_PROFILE, this.population, features)
    const event = this.anomaly(key, window, session, verdict, { open: true, detectedAt: end }, value)
    if (event === undefined) return
    this.earlyStore.put(key, [...reported, window])
    this.context.forward({ key, value: event, timestamp, headers: {} })
  }

  private judgeClosed(windowed: Windowed<string>, session: SessionSummary, timestamp: number): void {
    const { key, window } = windowed
    if (session.requests === 0) return
    // The window's bounds are the session's first and last event times (the aggregator has no time).
    const features = sessionFeatures({ ...session, start: window.start, end: window.end })
    const { entity, population, verdict } = this.detector.step(this.profiles.get(key) ?? EMPTY_PROFILE, this.population, features)
    this.profiles.put(key, entity)
    this.population = population
    this.populationStore.put(POPULATION_KEY, population)
    if (this.reportedEarly(key, window)) return
    const event = this.anomaly(key, window, session, verdict, { open: false, detectedAt: window.end + this.options.sessions.gapMs + this.options.sessions.graceMs })
    if (event === undefined) return
    this.context.forward({ key, value: event, timestamp, headers: {} })
  }

  /** Whether this closing session was reported while open; forgets it either way. */
  private reportedEarly(key: string, window: TimeWindow): boolean {
    const store = this.earlyStore
    const reported = store?.get(key)
    if (store === undefined || reported === undefined) return false
    const rest = reported.filter((w) => !overlaps(w, window))
    if (rest.length === reported.length) return false
    if (rest.length === 0) store.delete(key)
    else store.put(key, rest)
    return true
  }

  /** `detectedAt`: the event time of the verdict (an open session's last record; a closed one's close). */
  private anomaly(key: string, window: TimeWindow, session: SessionSummary, verdict: SessionVerdict, at: { open: boolean; detectedAt: number }, value?: V): AnomalyEvent | undefined {
    const threshold = this.options.threshold
    const top = verdict.deviations[0]
    if (!verdict.anomalous || verdict.severity === undefined || top === undefined) return undefined
    const open = at.open
    const named = verdict.deviations.map((d) => `${d.feature} ${d.observed} (mean ${+d.mean.toPrecision(6)}, z=${d.z.toFixed(2)})`).join('; ')
    const reference = verdict.reference === 'entity' ? `${key}'s own profile` : "the population's profile (too little history of its own)"
    return anomalyEvent(
      this.options,
      {
        key,
        idTime: window.start,
        detectedAt: at.detectedAt,
        detectorType: 'behavioral',
        severity: anomalySeverity(verdict.severity),
        score: verdict.score,
        title: `${open ? `unusual session in progress (${session.requests} requests in ${formatSpan(window.end - window.start)})` : 'unusual session'}: ${verdict.deviations.filter((d) => (open ? d.z : Math.abs(d.z)) >= threshold).map((d) => d.feature).join(', ')}`,
        description: open
          ? `A session of ${key}, still open (${session.requests} requests so far), exceeds ${reference}: ${named}; threshold z >= ${threshold}. Judged before it closes; it is not reported again when it does.`
          : `A session of ${key} (${session.requests} requests) deviated from ${reference}: ${named}; threshold |z| >= ${threshold}.`,
        metrics: { baseline_value: top.mean, observed_value: top.observed, deviation: top.z, threshold },
        windowStart: window.start,
        windowEnd: window.end,
      },
      value,
    )
  }
}

/**
 * `<name>-sessions` (session store), `<name>-final` (suppression buffer), then `<name>` with stores
 * `<name>-profiles` (per entity) and `<name>-population`. One AnomalyEvent per anomalous session,
 * keyed by the entity, when the session closes (stream time >= its last record + gap + grace):
 * anomaly_id = anomalyId(id, key, session start); context {window_start, window_end: the session's
 * first and last record}; metrics: the most deviating feature's {baseline_value: its reference
 * mean, observed_value, deviation: z, threshold}; the description names the top features.
 *
 * With `early`: also `<name>-early` (sessions reported while open), and `<name>` reads
 * `<name>-sessions-store` for each record's open session. An open session is reported at the first
 * record after which it has the evidence asked for and a feature at or above mean + threshold·std:
 * same anomaly_id rule (the session's start so far), timestamp = that record's time. The session is
 * not reported again, neither by a later record nor when it closes.
 */
export function sessionProfiles<V>(stream: KStream<string, V>, options: SessionProfilesOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `sessionProfiles('${name}')`
  checkDetectorId(operator, options.id)
  if (options.sessions?.kind !== 'session') throw new Error(`${operator}: 'sessions' must be SessionWindows.withGap(gapMs, { graceMs })`)
  const features = options.features ?? SESSION_FEATURES
  for (const f of features) if (!SESSION_FEATURES.includes(f)) throw new Error(`${operator}: unknown feature '${f}'; features are ${SESSION_FEATURES.join(', ')}`)
  if (!Number.isInteger(options.minSessions) || options.minSessions < 1) throw new Error(`${operator}: 'minSessions' must be an integer >= 1, got ${options.minSessions}`)
  const early = options.early
  if (early !== undefined) {
    if (!Number.isInteger(early.minRecords) || early.minRecords < 2) {
      throw new Error(`${operator}: 'early.minRecords' must be an integer >= 2 (one record says nothing about a session), got ${early.minRecords}`)
    }
    if (!Number.isFinite(early.minDurationMs) || early.minDurationMs < 0) throw new Error(`${operator}: 'early.minDurationMs' must be a number of milliseconds >= 0, got ${early.minDurationMs}`)
    if (early.maxDurationMs !== undefined && !(Number.isFinite(early.maxDurationMs) && early.maxDurationMs >= early.minDurationMs)) {
      throw new Error(`${operator}: 'early.maxDurationMs' must be a number of milliseconds >= early.minDurationMs, got ${early.maxDurationMs}`)
    }
  }
  const detector = new SessionProfileDetector({
    features,
    threshold: options.threshold,
    minSessions: options.minSessions,
    ...(options.minPopulationSessions === undefined ? {} : { minPopulationSessions: options.minPopulationSessions }),
    ...(options.topK === undefined ? {} : { topK: options.topK }),
    ...(options.minStd === undefined ? {} : { minStd: options.minStd }),
    ...(options.minRelativeStd === undefined ? {} : { minRelativeStd: options.minRelativeStd }),
  })
  const earlyStore = early === undefined ? undefined : Stores.keyValue(`${name}-early`, Serdes.string(), Serdes.json<TimeWindow[]>())
  const stores: SessionProfileStores = {
    profiles: Stores.keyValue(`${name}-profiles`, Serdes.string(), Serdes.json<Profile>()),
    // Keyed by a constant, not by the source key: not prefetched; read once, asynchronously, at start.
    population: Stores.keyValue(`${name}-population`, Serdes.string(), Serdes.json<Profile>(), { prefetch: 'none' }),
    early: earlyStore,
    sessions: `${name}-sessions-store`,
  }
  // Early verdicts read the session store beside the aggregate, so the records must reach both in
  // the same task: repartition first if the key changed (the aggregation would otherwise do it alone).
  const input = early !== undefined && stream.keyChanged === true ? stream.repartition({ name: `${name}-input`, key: Serdes.string() }) : stream
  const toRecord = options.record
  const closed = input
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
  const processor = (): SessionProfileProcessor<V> => new SessionProfileProcessor(options, detector, stores)
  if (earlyStore === undefined) return closed.process(processor, { name, stores: [stores.profiles, stores.population] })
  // One processor sees both closed sessions and records, so the population it holds in memory is
  // shared. The records reach it after the aggregate (a parent's children run in the order they were
  // added), so the session store already holds each record's session. Keys tell the two apart.
  type Judged = KStream<Windowed<string> | string, unknown>
  const judged = (closed as unknown as Judged).merge(input as unknown as Judged, { name: `${name}-open` })
  return judged.process(processor, { name, stores: [stores.profiles, stores.population, earlyStore, stores.sessions] })
}
