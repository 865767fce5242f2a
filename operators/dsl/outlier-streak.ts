/**
 * Records far above their key's own normal, several in a row, e.g. a user whose calls suddenly carry
 * 10-20x their usual tokens (an agent loop resending a growing context: a cost runaway). Each
 * record's value is compared with the bound max(minimum, exp(m + z * s)), m and s the mean and
 * standard deviation (at least `minLogStd`) of the log values of
 *   the key's own records, once it has minHistory of them;
 *   else its cohort's (e.g. every user of its application), once the cohort has cohortMinHistory:
 *     a newcomer is judged against its peers;
 *   else the record is only learned.
 * `count` records above it among the key's last `within` records (default `count`: in a row) make
 * one anomaly; the key fires again only once its last `within` records hold no outlier (the episode
 * ended). Records above the bound are not learned (a runaway does not become the key's normal),
 * nor are records while the last `within` hold an outlier (a runaway's calls straddle the bound:
 * those just under it would otherwise give a young key its history from the runaway itself); the
 * others teach the key's and the cohort's profiles (weight alpha, plain average at first).
 *
 * Why `within` > `count` (a k-of-n rule, as in control charts): a runaway's calls sit above the bound
 * only most of the time (a x10 call from a user whose own sizes spread with log std 0.7 is z 3.3,
 * above 3 about 70% of the time), so one call under it breaks a run of 3 in a row: 3 in a row then
 * has probability 0.34, 3 of 5 0.84. Under the key's normal (p ~0.001-0.01 per call above z 3 for a
 * young profile) 3 of 5 is ~10p^3, still 1e-5 or less per call.
 *
 * Log space because call sizes are log-normal: z deviations there is a multiple of the key's typical
 * value. Per record rather than per window: a key's calls are few and irregular, so a window's sum
 * mixes "more calls" with "bigger calls"; the size of each call separates them.
 *
 * State: per key its profile and last `within` records' verdicts (`<name>-state`, logged, prefetched by the source key); the
 * cohorts' profiles in memory and in `<name>-cohorts` (logged, read back whole when the task starts).
 *
 * Fails when: a key's own calls are that irregular (a user alternating tiny and huge prompts), a
 * runaway grows slowly enough to be learned, or a newcomer's normal sits far above its peers'.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type StreamRecord, Stores } from '../../topology/index.js'
import { anomalyScore, anomalySeverity, severityOf } from '../detectors/severity.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { EMPTY_LOG_PROFILE, type LogProfile, learnProfile, profileBound } from './sliding-sum.js'

export interface OutlierStreakOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the processor and store names (default: `id`). */
  readonly name?: string
  /** The record's value (> 0); other records are ignored. */
  readonly metric: (value: V, key: string) => number
  readonly metricName?: string
  /** Deviations of the log value above its mean that make a record an outlier (z). */
  readonly threshold: number
  /** Floor of the log values' standard deviation (default 0.5). */
  readonly minLogStd?: number
  /** Values below this are never outliers. */
  readonly minimum: number
  /** Outliers that make an anomaly... */
  readonly count: number
  /** ...among the key's last `within` records (default `count`: in a row; at least `count`). */
  readonly within?: number
  /** Weight of each record in the profiles (default 0.05). */
  readonly alpha?: number
  /** Records a key needs before its own profile counts (default 10). */
  readonly minHistory?: number
  readonly cohort?: (value: V, key: string) => string | null
  /** Records a cohort needs before it is a reference (default 50). */
  readonly cohortMinHistory?: number
}

/** One of the key's last `within` records: an outlier's value and time, or null for a normal one. */
type Recent = { readonly x: number; readonly at: number } | null

export interface OutlierStreakState extends LogProfile {
  /** The key's last `within` records (oldest first). */
  readonly recent: readonly Recent[]
  /** An anomaly was emitted for the current episode (reset once `recent` holds no outlier). */
  readonly fired: boolean
}

const FRESH: OutlierStreakState = { ...EMPTY_LOG_PROFILE, recent: [], fired: false }

class OutlierStreakProcessor<V> implements Processor<string, V, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private states!: KeyValueStore<string, OutlierStreakState>
  private cohortStore!: KeyValueStore<string, LogProfile>
  private readonly cohorts = new Map<string, LogProfile>()

  constructor(
    private readonly options: OutlierStreakOptions<V>,
    private readonly stateDefinition: KeyValueStoreDefinition<string, OutlierStreakState>,
    private readonly cohortDefinition: KeyValueStoreDefinition<string, LogProfile>,
  ) {}

  async init(context: ProcessorContext<string, AnomalyEvent>): Promise<void> {
    this.context = context
    this.states = context.getStateStore(this.stateDefinition)
    this.cohortStore = context.getStateStore(this.cohortDefinition)
    for await (const [cohort, profile] of this.cohortStore.all()) this.cohorts.set(cohort, profile)
  }

  process(record: StreamRecord<string, V>): void {
    const { key, value, timestamp } = record
    const x = this.options.metric(value, key)
    if (key === null || key === undefined || !(x > 0) || !Number.isFinite(x)) return
    const state = this.states.get(key) ?? FRESH
    const cohort = this.options.cohort?.(value, key) ?? null
    const peers = cohort === null ? undefined : this.cohorts.get(cohort)
    const own = state.samples >= (this.options.minHistory ?? 10)
    const reference = own ? state : peers !== undefined && peers.samples >= (this.options.cohortMinHistory ?? 50) ? peers : null
    const bound = reference === null ? null : profileBound(reference, this.options)
    const outlier = bound !== null && x >= bound
    const within = this.options.within ?? this.options.count
    // `recent` is absent from a state written before `within` existed: start its window afresh.
    const recent = [...(state.recent ?? []), outlier ? { x, at: timestamp } : null].slice(-within)
    const outliers = recent.filter((r): r is NonNullable<Recent> => r !== null)
    const fire = outliers.length >= this.options.count && !(state.fired ?? false)
    const fired = outliers.length === 0 ? false : (state.fired ?? false) || fire
    if (outlier) {
      this.states.put(key, { ...state, recent, fired })
      if (fire) this.context.forward({ key, value: this.event(key, outliers.slice(-this.options.count), bound!, own ? 'own' : `${cohort}'s`, reference!, timestamp, value), timestamp, headers: {} })
      return
    }
    // A record among recent outliers is suspect, not normal: a runaway's calls straddle the bound,
    // and learning the ones just under it would teach the key (a young one within a few calls) the
    // runaway as its normal, so its later calls stop being outliers.
    if (outliers.length > 0) {
      this.states.put(key, { ...state, recent, fired })
      return
    }
    const alpha = this.options.alpha ?? 0.05
    this.states.put(key, { ...learnProfile(state, x, alpha), recent, fired })
    if (cohort !== null) {
      const learned = learnProfile(peers ?? EMPTY_LOG_PROFILE, x, alpha)
      this.cohorts.set(cohort, learned)
      this.cohortStore.put(cohort, learned)
    }
  }

  private event(key: string, outliers: readonly NonNullable<Recent>[], bound: number, whose: string, reference: LogProfile, at: number, value: V): AnomalyEvent {
    const what = this.options.metricName ?? 'value'
    const values = outliers.map((o) => o.x)
    const start = outliers[0]?.at ?? at
    const last = values[values.length - 1] ?? Number.NaN
    const among = (this.options.within ?? this.options.count) > this.options.count ? ` of the last ${this.options.within}` : ' in a row'
    const typical = Math.exp(reference.mean)
    return anomalyEvent(
      this.options,
      {
        key,
        idTime: start,
        detectedAt: at,
        detectorType: 'statistical',
        severity: anomalySeverity(severityOf(last, bound) ?? 'low'),
        score: anomalyScore(Math.min(...values), bound),
        title: `${this.options.count} records${among} with ${what} above ${Math.round(bound)} (${whose} typical ${Math.round(typical)})`,
        description: `${key}: ${this.options.count} records${among} had ${what} ${values.map((v) => Math.round(v)).join(', ')}; ${whose} typical is ${Math.round(typical)}, bound ${Math.round(bound)}.`,
        metrics: { baseline_value: typical, observed_value: last, deviation: last / typical, threshold: bound },
        windowStart: start,
        windowEnd: at,
        sampleEvents: values.map(String),
      },
      value,
    )
  }
}

/** One AnomalyEvent per episode of outliers of a key (see the module comment), keyed by the source key. */
export function outlierStreak<V>(stream: KStream<string, V>, options: OutlierStreakOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `outlierStreak('${name}')`
  checkDetectorId(operator, options.id)
  if (typeof options.metric !== 'function') throw new Error(`${operator}: 'metric' must be a function (value, key) => number`)
  if (!(options.threshold > 0)) throw new Error(`${operator}: 'threshold' must be > 0, got ${options.threshold}`)
  if (!(options.minimum >= 0)) throw new Error(`${operator}: 'minimum' must be >= 0, got ${options.minimum}`)
  if (!Number.isInteger(options.count) || options.count < 1) throw new Error(`${operator}: 'count' must be an integer >= 1, got ${options.count}`)
  if (options.within !== undefined && !(Number.isInteger(options.within) && options.within >= options.count)) throw new Error(`${operator}: 'within' must be an integer >= count (${options.count}), got ${options.within}`)
  if (options.alpha !== undefined && !(options.alpha > 0 && options.alpha <= 1)) throw new Error(`${operator}: 'alpha' must be in (0, 1], got ${options.alpha}`)
  const state = Stores.keyValue(`${name}-state`, Serdes.string(), Serdes.json<OutlierStreakState>())
  const cohorts = Stores.keyValue(`${name}-cohorts`, Serdes.string(), Serdes.json<LogProfile>(), { prefetch: 'none' })
  return stream.process(() => new OutlierStreakProcessor(options, state, cohorts), { name, stores: [state, cohorts] })
}
