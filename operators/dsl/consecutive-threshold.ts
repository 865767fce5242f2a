/**
 * Consecutive-threshold operator: per key, N consecutive records whose metric meets a condition
 * (metric > bound, >=, <, <=, ==) make one anomaly; the streak must break (a record failing the
 * condition, a non-number metric included) before the key can fire again. The streak state
 * (ConsecutiveThreshold's) lives in a logged key-value store keyed by the source key.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type StreamRecord, Stores } from '../../topology/index.js'
import { type AnomalySeverity, anomalyScore } from '../detectors/severity.js'
import { type Comparison, ConsecutiveThreshold, type StreakAnomaly, type StreakParams, type StreakState, checkStreakParams } from '../detectors/streak.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { LiveParameters, type LiveProvider, problemOf } from './live-parameters.js'

const COMPARISONS: readonly Comparison[] = ['>', '>=', '<', '<=', '==']

export interface ConsecutiveThresholdOptions<V> extends AnomalyOutputOptions<V> {
  /** Name of the processor; its store is `<name>-state` (default: `id`). Keep it stable to keep state. */
  readonly name?: string
  readonly metric: (value: V, key: string) => number
  /** How the metric is called in titles (default 'metric'). */
  readonly metricName?: string
  readonly comparison: Comparison
  readonly bound: number
  /** Consecutive matching records that make an anomaly (integer >= 1). */
  readonly count: number
  /**
   * A rule has no graded deviation, so its severity is configured (default 'warning'); its score is
   * the threshold's, 0.5 (operators/detectors/severity.ts: r = streak length / count = 1).
   */
  readonly severity?: AnomalySeverity
  /**
   * Read once per record: the bound and count in force (live-parameters.ts), so they change without
   * a restart; running streaks are kept and judged by the new ones from the next record.
   */
  readonly live?: LiveProvider<StreakParams>
}

class ConsecutiveThresholdProcessor<V> implements Processor<string, V, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private streaks!: KeyValueStore<string, StreakState>

  constructor(
    private readonly options: ConsecutiveThresholdOptions<V>,
    private readonly detector: ConsecutiveThreshold,
    private readonly params: LiveParameters<StreakParams>,
    private readonly store: KeyValueStoreDefinition<string, StreakState>,
  ) {}

  init(context: ProcessorContext<string, AnomalyEvent>): void {
    this.context = context
    this.streaks = context.getStateStore(this.store)
  }

  process(record: StreamRecord<string, V>): void {
    const key = record.key
    const before = this.streaks.get(key)
    const params = this.params.read()
    const { state, anomaly } = this.detector.step(before ?? this.detector.initial(), this.options.metric(record.value, key), record.timestamp, params)
    // An idle key costs no store entry: a broken streak is a delete, not an empty state.
    if (state.length === 0) {
      if (before !== undefined) this.streaks.delete(key)
    } else {
      this.streaks.put(key, state)
    }
    if (anomaly !== undefined) this.context.forward({ key, value: this.event(key, anomaly, record.value, params), timestamp: record.timestamp, headers: {} })
  }

  private event(key: string, streak: StreakAnomaly, value: V, { bound, count }: StreakParams): AnomalyEvent {
    const { comparison } = this.options
    const metric = this.options.metricName ?? 'metric'
    const last = streak.values[streak.values.length - 1] ?? Number.NaN
    return anomalyEvent(
      this.options,
      {
        key,
        // The streak's start identifies it: a replay starts it at the same record.
        idTime: streak.start,
        detectedAt: streak.end,
        detectorType: 'rule',
        severity: this.options.severity ?? 'warning',
        score: anomalyScore(streak.length, count),
        title: `${metric} ${comparison} ${bound} for ${count} consecutive records`,
        description: `${metric} for ${key} was ${comparison} ${bound} in ${count} consecutive records from ${new Date(streak.start).toISOString()} to ${new Date(streak.end).toISOString()}: ${streak.values.join(', ')}.`,
        metrics: { baseline_value: null, observed_value: last, deviation: last - bound, threshold: bound },
        windowStart: streak.start,
        windowEnd: streak.end,
        sampleEvents: streak.values.map(String),
      },
      value,
    )
  }
}

/**
 * One AnomalyEvent per streak of `count` consecutive records meeting `metric comparison bound`,
 * keyed by the source key, at the streak's `count`-th record: anomaly_id = anomalyId(id, key, the
 * streak's first timestamp); context {window_start: first, window_end: count-th record's time};
 * sample_events: the streak's `count` values; metrics {observed_value: the last of them,
 * deviation: it minus the bound, threshold: the bound}.
 */
export function consecutiveThreshold<V>(stream: KStream<string, V>, options: ConsecutiveThresholdOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `consecutiveThreshold('${name}')`
  checkDetectorId(operator, options.id)
  if (typeof options.metric !== 'function') throw new Error(`${operator}: 'metric' must be a function (value, key) => number`)
  if (!COMPARISONS.includes(options.comparison))
    throw new Error(`${operator}: 'comparison' must be one of ${COMPARISONS.join(' ')}, got ${String(options.comparison)}`)
  if (!Number.isFinite(options.bound)) throw new Error(`${operator}: 'bound' must be a finite number, got ${options.bound}`)
  if (!Number.isInteger(options.count) || options.count < 1) throw new Error(`${operator}: 'count' must be an integer >= 1, got ${options.count}`)
  const detector = new ConsecutiveThreshold({ comparison: options.comparison, bound: options.bound, count: options.count })
  const params = new LiveParameters<StreakParams>(operator, detector.config, options.live, (p) => problemOf(() => checkStreakParams(p)))
  const store = Stores.keyValue(`${name}-state`, Serdes.string(), Serdes.json<StreakState>())
  return stream.process(() => new ConsecutiveThresholdProcessor(options, detector, params, store), { name, stores: [store] })
}
