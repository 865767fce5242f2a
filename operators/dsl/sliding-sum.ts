/**
 * Sliding-window sum per key against the key's own normal, e.g. "this user sent 30 requests in
 * some 2 minutes" or "this user's tokens over 5 minutes are far above what their 5 minutes usually
 * are". Unlike a tumbling window, a burst is seen whichever way it straddles window edges, and as
 * soon as the record that completes it arrives (no wait for a window to close).
 *
 * After each record the sum of its key's last `windowMs` (whole buckets of `bucketMs`, so between
 * windowMs - bucketMs and windowMs) is compared with the bound max(minimum, exp(m + z * s)), where
 * m and s are the mean and standard deviation (at least `minLogStd`) of the log of the sums:
 *   the key's own, once it has minHistory samples;
 *   else its cohort's (e.g. every user of its application), when `cohort` is given and has them:
 *     a newcomer is judged against its peers;
 *   else the bound is `coldStart`.
 * Log space because such sums are heavy-tailed (log-normal call sizes, a few calls or many): a
 * bound of z deviations there is a multiple of the key's typical sum, wider for an irregular key.
 * Samples: the sum at a record, learned while not firing, at most one per key per windowMs (so a
 * newcomer's burst does not become its own history while it ramps up); a cohort learns every sample
 * of its keys. Crossing the bound emits one anomaly; the key then fires no more until its sum falls
 * below half the bound (one per burst).
 *
 * State: a window store of bucket sums (`<name>-buckets`, kept windowMs + bucketMs) and a
 * key-value store of the key's profile and firing flag (`<name>-state`), both logged and prefetched
 * by the source key; the cohorts' profiles are few, held in memory and in `<name>-cohorts` (logged,
 * read back whole when the task starts). A restart continues where it stopped.
 *
 * Fails when: a key's normal is itself bursty beyond z deviations (it then fires on its own
 * peaks), a burst builds slower than the profile learns (one sample per window, weight alpha), or a
 * newcomer's burst stays under its cohort's spread (peers with heavy and light users are wide).
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore, TimeWindow, WindowStore } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type StreamRecord, Stores, type WindowStoreDefinition } from '../../topology/index.js'
import { anomalyScore, anomalySeverity, severityOf } from '../detectors/severity.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'

export interface SlidingSumOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the processor and store names (default: `id`). */
  readonly name?: string
  /** What a record adds (1 to count records); a non-finite or non-positive value adds nothing. */
  readonly metric: (value: V, key: string) => number
  /** How the sum is called in titles, e.g. 'requests'. */
  readonly metricName?: string
  readonly windowMs: number
  /** Resolution of the sliding window (default windowMs / 12). */
  readonly bucketMs?: number
  /** The least bound for any key: smaller sums are never anomalous. */
  readonly minimum: number
  /** Deviations of the log sum above its mean that are anomalous (z). */
  readonly threshold: number
  /** Floor of the log sum's standard deviation (default 0.5: a factor of e^(0.5 z) at least). */
  readonly minLogStd?: number
  /** Weight of each sample in the profiles (default 0.05). */
  readonly alpha?: number
  /** Samples a key (or cohort) needs before its profile counts (default 10). */
  readonly minHistory?: number
  /** The peer group of a key's record (e.g. its application): the reference of keys without history. */
  readonly cohort?: (value: V, key: string) => string | null
  /** The bound when neither the key nor its cohort has history (default: minimum). */
  readonly coldStart?: number
}

/** Exponentially weighted mean and variance of the log sums. */
export interface LogProfile {
  readonly mean: number
  readonly variance: number
  readonly samples: number
}

export interface SlidingSumState extends LogProfile {
  /** Event time of the last sample learned. */
  readonly sampledAt: number
  readonly firing: boolean
}

// sampledAt 0 (not -Infinity, which JSON stores as null): any event time is a window past it.
const FRESH: SlidingSumState = { mean: 0, variance: 0, samples: 0, sampledAt: 0, firing: false }

/** The buckets a record at `timestamp` reads: the last `count` ones, ending with its own. */
export function slidingBuckets(timestamp: number, bucketMs: number, count: number): TimeWindow[] {
  const own = timestamp - (((timestamp % bucketMs) + bucketMs) % bucketMs)
  return Array.from({ length: count }, (_, i) => ({ start: own - (count - 1 - i) * bucketMs, end: own - (count - 2 - i) * bucketMs }))
}

/**
 * `slidingBuckets` for one bucket length and count, the last answer kept: a batch's prefetch asks for
 * the buckets of every record, and records of one bucket share them (a fresh array of `count`
 * windows per record was the prefetch's largest allocation). Read-only: the store only reads them.
 */
function lastBucketsMemo(bucketMs: number, count: number): (timestamp: number) => readonly TimeWindow[] {
  let own = Number.NaN
  let last: readonly TimeWindow[] = []
  return (timestamp) => {
    const start = timestamp - (((timestamp % bucketMs) + bucketMs) % bucketMs)
    if (start !== own) {
      last = slidingBuckets(timestamp, bucketMs, count)
      own = start
    }
    return last
  }
}

/**
 * The window store of a sliding window's buckets (`<name>-buckets`, kept one bucket past the
 * window), after checking the window and bucket lengths (bucket default: windowMs / 12).
 */
export function slidingBucketStore<T>(operator: string, name: string, windowMs: number, bucketMsOption: number | undefined): { store: WindowStoreDefinition<string, T>; bucketMs: number; count: number } {
  if (!(windowMs > 0)) throw new Error(`${operator}: 'windowMs' must be > 0, got ${windowMs}`)
  const bucketMs = bucketMsOption ?? Math.max(1, Math.round(windowMs / 12))
  if (!(bucketMs > 0 && bucketMs <= windowMs)) throw new Error(`${operator}: 'bucketMs' must be in (0, windowMs], got ${bucketMs}`)
  const count = Math.max(1, Math.round(windowMs / bucketMs))
  const store = Stores.window(`${name}-buckets`, Serdes.string(), Serdes.json<T>(), {
    windowSizeMs: bucketMs,
    retentionMs: (count + 1) * bucketMs,
    windowsFor: lastBucketsMemo(bucketMs, count),
  })
  return { store, bucketMs, count }
}

export interface SlidingSumVerdict {
  readonly state: SlidingSumState
  /** Set when the sum crossed the bound: the bound it crossed. */
  readonly crossed: number | null
  /** What the bound was made of. */
  readonly reference: 'own' | 'cohort' | 'cold-start'
  /** Whether the sum was learned (then the cohort learns it too). */
  readonly learned: boolean
}

type JudgeOptions = Pick<SlidingSumOptions<unknown>, 'minimum' | 'threshold' | 'minLogStd' | 'alpha' | 'minHistory' | 'windowMs' | 'coldStart'>

/** One sample into a profile (West's weighted update; the first samples average plainly). */
export function learnProfile<P extends LogProfile>(profile: P, sum: number, alpha: number): P {
  const x = Math.log(sum)
  const weight = Math.max(alpha, 1 / (profile.samples + 1))
  const diff = x - profile.mean
  const step = weight * diff
  return { ...profile, mean: profile.mean + step, variance: (1 - weight) * (profile.variance + diff * step), samples: profile.samples + 1 }
}

export const EMPTY_LOG_PROFILE: LogProfile = { mean: 0, variance: 0, samples: 0 }

export function profileBound(profile: LogProfile, options: Pick<JudgeOptions, 'minimum' | 'threshold' | 'minLogStd'>): number {
  const std = Math.max(Math.sqrt(profile.variance), options.minLogStd ?? 0.5)
  return Math.max(options.minimum, Math.exp(profile.mean + options.threshold * std))
}

export function judgeSlidingSum(state: SlidingSumState, cohort: LogProfile | undefined, sum: number, at: number, options: JudgeOptions): SlidingSumVerdict {
  const minHistory = options.minHistory ?? 10
  const reference = state.samples >= minHistory ? 'own' : cohort !== undefined && cohort.samples >= minHistory ? 'cohort' : 'cold-start'
  const bound = reference === 'own' ? profileBound(state, options) : reference === 'cohort' ? profileBound(cohort!, options) : (options.coldStart ?? options.minimum)
  if (sum >= bound) return { state: state.firing ? state : { ...state, firing: true }, crossed: state.firing ? null : bound, reference, learned: false }
  if (state.firing && sum >= bound / 2) return { state, crossed: null, reference, learned: false }
  // One sample per window length: samples at every record would let a newcomer's burst become its
  // own history while it ramps up (ten records in a minute are ten samples of the burst).
  if (at - state.sampledAt < options.windowMs) return { state: state.firing ? { ...state, firing: false } : state, crossed: null, reference, learned: false }
  return { state: { ...learnProfile(state, sum, options.alpha ?? 0.05), sampledAt: at, firing: false }, crossed: null, reference, learned: true }
}

class SlidingSumProcessor<V> implements Processor<string, V, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private buckets!: WindowStore<string, number>
  private states!: KeyValueStore<string, SlidingSumState>
  private cohortStore!: KeyValueStore<string, LogProfile>
  private readonly cohorts = new Map<string, LogProfile>()

  constructor(
    private readonly options: SlidingSumOptions<V>,
    private readonly bucketMs: number,
    private readonly bucketCount: number,
    private readonly bucketStore: WindowStoreDefinition<string, number>,
    private readonly stateStore: KeyValueStoreDefinition<string, SlidingSumState>,
    private readonly cohortDefinition: KeyValueStoreDefinition<string, LogProfile>,
  ) {}

  async init(context: ProcessorContext<string, AnomalyEvent>): Promise<void> {
    this.context = context
    this.buckets = context.getStateStore(this.bucketStore)
    this.states = context.getStateStore(this.stateStore)
    this.cohortStore = context.getStateStore(this.cohortDefinition)
    for await (const [cohort, profile] of this.cohortStore.all()) this.cohorts.set(cohort, profile)
  }

  process(record: StreamRecord<string, V>): void {
    const { key, value, timestamp } = record
    const add = this.options.metric(value, key)
    if (key === null || key === undefined || !(add > 0) || !Number.isFinite(add)) return
    const windows = slidingBuckets(timestamp, this.bucketMs, this.bucketCount)
    const own = windows[windows.length - 1]!.start
    this.buckets.put(key, (this.buckets.get(key, own) ?? 0) + add, own)
    let sum = 0
    for (const w of windows) sum += this.buckets.get(key, w.start) ?? 0
    const before = this.states.get(key) ?? FRESH
    const cohort = this.options.cohort?.(value, key) ?? null
    const peers = cohort === null ? undefined : this.cohorts.get(cohort)
    const verdict = judgeSlidingSum(before, peers, sum, timestamp, this.options)
    if (verdict.state !== before) this.states.put(key, verdict.state)
    if (verdict.learned && cohort !== null) {
      const learned = learnProfile(peers ?? EMPTY_LOG_PROFILE, sum, this.options.alpha ?? 0.05)
      this.cohorts.set(cohort, learned)
      this.cohortStore.put(cohort, learned)
    }
    if (verdict.crossed !== null) {
      const reference = verdict.reference === 'own' ? before : verdict.reference === 'cohort' ? (peers ?? null) : null
      this.context.forward({ key, value: this.event(key, sum, verdict, reference, cohort, timestamp, value), timestamp, headers: {} })
    }
  }

  private event(key: string, sum: number, verdict: SlidingSumVerdict, reference: LogProfile | null, cohort: string | null, at: number, value: V): AnomalyEvent {
    const what = this.options.metricName ?? 'sum'
    const minutes = this.options.windowMs / 60_000
    const bound = verdict.crossed ?? Number.NaN
    const typical = reference === null ? null : Math.exp(reference.mean)
    const usual =
      verdict.reference === 'own' ? `its own typical is ${Math.round(typical ?? 0)}`
      : verdict.reference === 'cohort' ? `too little history of its own; the typical of ${cohort}'s keys is ${Math.round(typical ?? 0)}`
      : 'no history of its own or of its peers yet'
    return anomalyEvent(
      this.options,
      {
        key,
        idTime: at,
        detectedAt: at,
        detectorType: 'statistical',
        severity: anomalySeverity(severityOf(sum, bound) ?? 'low'),
        score: anomalyScore(sum, bound),
        title: `${Math.round(sum)} ${what} in ${minutes} min (bound ${Math.round(bound)})`,
        description: `${key} reached ${Math.round(sum)} ${what} in the last ${minutes} minutes; ${usual}, bound ${Math.round(bound)}.`,
        metrics: { baseline_value: typical, observed_value: sum, deviation: sum / bound, threshold: bound },
        windowStart: at - this.options.windowMs,
        windowEnd: at,
      },
      value,
    )
  }
}

/** One AnomalyEvent per burst of a key (see the module comment), keyed by the source key. */
export function slidingSum<V>(stream: KStream<string, V>, options: SlidingSumOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `slidingSum('${name}')`
  checkDetectorId(operator, options.id)
  if (typeof options.metric !== 'function') throw new Error(`${operator}: 'metric' must be a function (value, key) => number`)
  const { store: buckets, bucketMs, count } = slidingBucketStore<number>(operator, name, options.windowMs, options.bucketMs)
  if (!(options.minimum > 0)) throw new Error(`${operator}: 'minimum' must be > 0, got ${options.minimum}`)
  if (!(options.threshold > 0)) throw new Error(`${operator}: 'threshold' must be > 0, got ${options.threshold}`)
  if (options.coldStart !== undefined && !(options.coldStart > 0)) throw new Error(`${operator}: 'coldStart' must be > 0, got ${options.coldStart}`)
  if (options.alpha !== undefined && !(options.alpha > 0 && options.alpha <= 1)) throw new Error(`${operator}: 'alpha' must be in (0, 1], got ${options.alpha}`)
  const state = Stores.keyValue(`${name}-state`, Serdes.string(), Serdes.json<SlidingSumState>())
  const cohorts = Stores.keyValue(`${name}-cohorts`, Serdes.string(), Serdes.json<LogProfile>(), { prefetch: 'none' })
  return stream.process(() => new SlidingSumProcessor(options, bucketMs, count, buckets, state, cohorts), { name, stores: [buckets, state, cohorts] })
}
