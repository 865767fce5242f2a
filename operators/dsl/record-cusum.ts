/**
 * A CUSUM over each record's log value against its key's own log-normal profile: a lasting rise of
 * the size of a key's records (e.g. an application whose calls carry 3x their usual tokens), found
 * after a number of records rather than of windows. A quiet key (2 calls a minute) has too few
 * records in a window for a window mean to stand out, but each surged record adds to the sum as
 * soon as it arrives: at a 2-std rise with allowance 1 and threshold 8, about 8 records.
 *
 * Per record: residual r = (ln x - m) / max(s, minLogStd), m and s the key's profile (weight
 * `alpha`, plain average over the first records); r clipped to ±`clip` (one huge record cannot
 * confirm a rise alone) feeds a CUSUM (operators/detectors/cusum.ts) with allowance `drift` and
 * decision `threshold`. A confirmed rise is one anomaly; the profile's mean then moves to the run's
 * level (mean log value of its records), with the spread it had before the run, so a lasting new
 * level is reported once. A confirmed fall after a confirmed rise (the episode ended) returns the
 * profile to the fall's level, no lower than before the rise, with the spread from before the rise:
 * the episode's records, learned while the runs built, would otherwise stay in the profile as
 * level and spread and hide the next rise (a x3 surge 15 minutes after a x10 one, in a key of 2
 * records a minute). A fall without a rise before it is only learned record by record, so a quiet
 * period does not lower the profile the next busy one is judged by. Every record teaches the
 * profile, winsorised at ±clip stds (with weight alpha a 10-record surge moves it by a sixth of its
 * size at most).
 * Verdicts start after `minHistory` records; with `stdConfidence`, a young profile's residuals
 * (fewer than 1/alpha records) are in units of its std's upper confidence bound (20 records: x1.3
 * at 0.9), so it can judge without its understated std raising false rises, and a quiet key is
 * judged sooner.
 *
 * State: per key the profile, the CUSUM sums and the run's start (`<name>-state`, logged,
 * prefetched by the source key): a restart continues the same sums.
 *
 * Assumes a key's records are exchangeable (log-normal-ish sizes, no order). Fails when they are
 * not: a key whose records come in runs of large and small ones (one user's long conversation, then
 * another's short questions) reads the runs as rises; a rise slower than the profile learns between
 * records is absorbed.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type StreamRecord, Stores } from '../../topology/index.js'
import { CusumDetector, type CusumState } from '../detectors/cusum.js'
import { anomalySeverity, severityOf } from '../detectors/severity.js'
import { checkStdConfidence, stdUpperBoundFactor } from '../detectors/std-bound.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { EMPTY_LOG_PROFILE, type LogProfile, learnProfile } from './sliding-sum.js'

export interface RecordCusumOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the processor and store names (default: `id`). */
  readonly name?: string
  /** The record's value (> 0); other records are ignored. */
  readonly metric: (value: V, key: string) => number
  readonly metricName?: string
  /** Allowance k per record, in profile stds. */
  readonly drift: number
  /** Decision threshold h, in profile stds. */
  readonly threshold: number
  /** |residual| clipped to this (default 4; must exceed drift). */
  readonly clip?: number
  /** Floor of the log values' standard deviation (default 0.25). */
  readonly minLogStd?: number
  /** Weight of each record in the profile (default 0.02). */
  readonly alpha?: number
  /** Records a key needs before any verdict (default 50). */
  readonly minHistory?: number
  /**
   * Judge a young profile (fewer than 1/alpha records) against this upper confidence bound of its
   * std (std-bound.ts; one of 0.9 ... 0.995) rather than its sample std, which it often
   * understates. Default: none.
   */
  readonly stdConfidence?: number
}

/** The profile as it was before a run began: a confirmed run's records are a new level, not spread. */
export interface ProfileSnapshot {
  readonly mean: number
  readonly variance: number
}

export interface RecordCusumState extends LogProfile {
  readonly cusum: CusumState
  /** Unclipped residuals of the current upward run, and the run's first record time. */
  readonly upRaw: number
  readonly runStart: number
  /** Sum of the log values of the current upward / downward run's records (their level). */
  readonly upLogSum?: number
  readonly downLogSum?: number
  /** The profile before the current upward / downward run's first record (null: no run). */
  readonly upBase?: ProfileSnapshot | null
  readonly downBase?: ProfileSnapshot | null
  /** The profile before the last confirmed rise, until a confirmed fall ends it (null: none). */
  readonly beforeRise?: ProfileSnapshot | null
}

class RecordCusumProcessor<V> implements Processor<string, V, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private states!: KeyValueStore<string, RecordCusumState>
  private readonly fresh: RecordCusumState

  constructor(
    private readonly options: RecordCusumOptions<V>,
    private readonly cusum: CusumDetector,
    private readonly stateDefinition: KeyValueStoreDefinition<string, RecordCusumState>,
  ) {
    this.fresh = { ...EMPTY_LOG_PROFILE, cusum: cusum.initial(), upRaw: 0, runStart: 0 }
  }

  init(context: ProcessorContext<string, AnomalyEvent>): void {
    this.context = context
    this.states = context.getStateStore(this.stateDefinition)
  }

  process(record: StreamRecord<string, V>): void {
    const { key, value, timestamp } = record
    const x = this.options.metric(value, key)
    if (key === null || key === undefined || !(x > 0) || !Number.isFinite(x)) return
    const state = this.states.get(key) ?? this.fresh
    const alpha = this.options.alpha ?? 0.02
    if (state.samples < (this.options.minHistory ?? 50)) {
      this.states.put(key, { ...state, ...learnProfile(state, x, alpha) })
      return
    }
    const std = Math.max(Math.sqrt(state.variance) * this.stdFactor(state.samples, alpha), this.options.minLogStd ?? 0.25)
    const logX = Math.log(x)
    const residual = (logX - state.mean) / std
    const stepped = this.cusum.step(state.cusum, residual)
    const profile: ProfileSnapshot = { mean: state.mean, variance: state.variance }
    const upBuilding = stepped.state.upRows > 0
    const downBuilding = stepped.state.downRows > 0
    const runStart = upBuilding ? (state.cusum.upRows > 0 ? state.runStart : timestamp) : 0
    const upRaw = upBuilding ? state.upRaw + residual : 0
    // Each run remembers the profile from before its first record and the level of its records
    // (through this record: on a verdict the CUSUM has reset, so the stored run is read here).
    const upThrough = {
      base: state.cusum.upRows > 0 ? (state.upBase ?? profile) : profile,
      logSum: (state.cusum.upRows > 0 ? (state.upLogSum ?? 0) : 0) + logX,
    }
    const downThrough = {
      base: state.cusum.downRows > 0 ? (state.downBase ?? profile) : profile,
      logSum: (state.cusum.downRows > 0 ? (state.downLogSum ?? 0) : 0) + logX,
    }
    const shift = stepped.verdict.shift
    const idle = { cusum: stepped.state, upRaw: 0, runStart: 0, upLogSum: 0, downLogSum: 0, upBase: null, downBase: null }
    if (shift !== undefined && shift.direction === 'up') {
      // The CUSUM has reset: the run is the stored one plus this record. The new level is the
      // profile from here on: the mean of the run's log values, with the spread the profile had
      // before the run (the run's records, learned while it built, are the new level, not noise:
      // kept in the variance they would hide the next rise, e.g. a surge after a runaway).
      const size = (state.upRaw + residual) / shift.rows
      const since = state.cusum.upRows > 0 ? state.runStart : timestamp
      const before = upThrough.base
      const level = upThrough.logSum / shift.rows
      this.states.put(key, { ...state, ...idle, mean: Math.max(level, before.mean), variance: before.variance, beforeRise: state.beforeRise ?? before })
      this.context.forward({ key, value: this.event(key, state, std, size, shift.rows, since, timestamp, x, value), timestamp, headers: {} })
      return
    }
    if (shift !== undefined && shift.direction === 'down' && (state.beforeRise ?? null) !== null) {
      // A confirmed fall after a confirmed rise: the episode has ended (a runaway stopped, a
      // surge passed). The profile returns to the level of the fall's records, but no lower than
      // before the rise, with the spread from before the rise. Without a rise before it, a fall is
      // only learned record by record: a quieter period is no reason to judge the next busy one
      // against a lowered profile.
      const before = state.beforeRise!
      const level = downThrough.logSum / shift.rows
      this.states.put(key, { ...state, ...idle, mean: Math.max(level, before.mean), variance: before.variance, beforeRise: null })
      return
    }
    // Every record is learned, winsorised at ±clip: leaving out the records of a building run
    // (any above the allowance) would cut the profile's upper tail, shrink its std and lower its
    // mean, and the next ordinary large records would then read as a rise.
    const clip = this.options.clip ?? 4
    const learned = Math.exp(state.mean + Math.max(-clip, Math.min(clip, residual)) * std)
    this.states.put(key, {
      ...state,
      ...learnProfile(state, learned, alpha),
      cusum: stepped.state,
      upRaw,
      runStart,
      upLogSum: upBuilding ? upThrough.logSum : 0,
      downLogSum: downBuilding ? downThrough.logSum : 0,
      upBase: upBuilding ? upThrough.base : null,
      downBase: downBuilding ? downThrough.base : null,
    })
  }

  /**
   * The std bound's factor for a profile of `samples` (1 without stdConfidence). Only while the
   * profile is still the plain average of its first records (weight 1/(n+1) above alpha): past that
   * it is an EWMA of ~2/alpha records, judged by its sample std as the threshold was chosen for.
   */
  private stdFactor(samples: number, alpha: number): number {
    const confidence = this.options.stdConfidence
    return confidence === undefined || 1 / (samples + 1) <= alpha ? 1 : stdUpperBoundFactor(samples, confidence)
  }

  private event(key: string, profile: LogProfile, std: number, size: number, rows: number, since: number, at: number, last: number, value: V): AnomalyEvent {
    const what = this.options.metricName ?? 'value'
    const typical = Math.exp(profile.mean)
    const ratio = Math.exp(size * std)
    return anomalyEvent(
      this.options,
      {
        key,
        idTime: since,
        detectedAt: at,
        detectorType: 'statistical',
        // Graded by the rise per record against the allowance (1x at the allowance itself).
        severity: anomalySeverity(severityOf(size, 2 * this.options.drift) ?? 'low'),
        score: Math.min(1, size / (size + 2 * this.options.drift)),
        title: `${what} per record up about ${ratio.toFixed(1)}x over ${rows} records (CUSUM; typical ${Math.round(typical)})`,
        description: `${key}: its last ${rows} records averaged ${size.toFixed(2)} std above its typical log ${what} (about ${ratio.toFixed(1)}x ${Math.round(typical)}), CUSUM threshold ${this.options.threshold} (allowance ${this.options.drift}); the last one ${Math.round(last)}.`,
        metrics: { baseline_value: typical, observed_value: typical * ratio, deviation: size, threshold: this.options.threshold },
        windowStart: since,
        windowEnd: at,
      },
      value,
    )
  }
}

/** One AnomalyEvent per confirmed rise of a key's record size (see the module comment), keyed by the source key. */
export function recordCusum<V>(stream: KStream<string, V>, options: RecordCusumOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `recordCusum('${name}')`
  checkDetectorId(operator, options.id)
  if (typeof options.metric !== 'function') throw new Error(`${operator}: 'metric' must be a function (value, key) => number`)
  if (options.alpha !== undefined && !(options.alpha > 0 && options.alpha <= 1)) throw new Error(`${operator}: 'alpha' must be in (0, 1], got ${options.alpha}`)
  if (options.minLogStd !== undefined && !(options.minLogStd > 0)) throw new Error(`${operator}: 'minLogStd' must be > 0, got ${options.minLogStd}`)
  checkStdConfidence(operator, options.stdConfidence)
  const cusum = new CusumDetector({ drift: options.drift, threshold: options.threshold, clip: options.clip ?? 4 })
  const state = Stores.keyValue(`${name}-state`, Serdes.string(), Serdes.json<RecordCusumState>())
  return stream.process(() => new RecordCusumProcessor(options, cusum, state), { name, stores: [state] })
}
