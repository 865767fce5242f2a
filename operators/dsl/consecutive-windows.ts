/**
 * Consecutive-threshold over windows: per key, N consecutive tumbling windows whose aggregate meets
 * a condition (e.g. p95-free "mean latency > 2000 ms for 5 minutes in a row") make one anomaly; a
 * window failing it re-arms. Windows without records are never emitted by the aggregation, so the
 * operator accounts for them itself: for count/sum/rate they are windows of value 0 (which may
 * continue a streak, e.g. `count < 3`); for mean/max they have no value and break the streak.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore, TimeWindow, Windowed } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type StreamRecord, Stores, type TimeWindows } from '../../topology/index.js'
import { type AnomalySeverity, anomalyScore } from '../detectors/severity.js'
import { type Comparison, ConsecutiveThreshold, type StreakAnomaly, type StreakState } from '../detectors/streak.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { type WindowAccumulator, type WindowAggregate, emptyWindowIsZero, finalWindowAccumulators, windowValue } from './window-metric.js'
import { checkWindowOptions } from './windowed-detector.js'

const COMPARISONS: readonly Comparison[] = ['>', '>=', '<', '<=', '==']

export interface ConsecutiveWindowsOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the operator and store names (default: `id`). */
  readonly name?: string
  /** What a record contributes (default 1 per record, for count/sum/rate). */
  readonly metric?: (value: V, key: string) => number
  readonly metricName?: string
  readonly window: TimeWindows
  readonly aggregate: WindowAggregate
  readonly comparison: Comparison
  readonly bound: number
  /** Consecutive matching windows that make an anomaly (integer >= 1). */
  readonly count: number
  /** Default 'warning'; the score is the threshold's, 0.5 (see consecutiveThreshold). */
  readonly severity?: AnomalySeverity
}

export interface WindowStreakSlot {
  /** Start of the last window stepped (null before the first). */
  readonly last: number | null
  readonly streak: StreakState
}

class ConsecutiveWindowsProcessor<V> implements Processor<Windowed<string>, WindowAccumulator, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private slots!: KeyValueStore<string, WindowStreakSlot>

  constructor(
    private readonly options: ConsecutiveWindowsOptions<V>,
    private readonly detector: ConsecutiveThreshold,
    private readonly store: KeyValueStoreDefinition<string, WindowStreakSlot>,
  ) {}

  init(context: ProcessorContext<string, AnomalyEvent>): void {
    this.context = context
    this.slots = context.getStateStore(this.store)
  }

  process(record: StreamRecord<Windowed<string>, WindowAccumulator>): void {
    const { key, window } = record.key
    const size = this.options.window.sizeMs
    const slot = this.slots.get(key)
    // A window already stepped (emitted again on a replay) is not counted twice.
    if (slot !== undefined && slot.last !== null && window.start <= slot.last) return
    let streak = slot?.streak ?? this.detector.initial()
    const anomalies: StreakAnomaly[] = []
    if (slot !== undefined && slot.last !== null && window.start > slot.last + size) {
      if (emptyWindowIsZero(this.options.aggregate)) {
        // Only the first `count` empty windows can change the outcome: after them the streak has
        // either broken or fired (and a fired streak stays fired while it lasts).
        const empty = Math.min(Math.round((window.start - slot.last) / size) - 1, this.options.count)
        for (let i = 1; i <= empty; i++) {
          const start = slot.last + i * size
          const stepped = this.detector.step(streak, 0, start)
          streak = stepped.state
          if (stepped.anomaly !== undefined) anomalies.push(stepped.anomaly)
        }
      } else {
        streak = this.detector.initial()
      }
    }
    const stepped = this.detector.step(streak, windowValue(record.value, this.options.aggregate, size), window.start)
    streak = stepped.state
    if (stepped.anomaly !== undefined) anomalies.push(stepped.anomaly)
    this.slots.put(key, { last: window.start, streak })
    for (const anomaly of anomalies) this.context.forward({ key, value: this.event(key, anomaly, { start: anomaly.end, end: anomaly.end + size }), timestamp: record.timestamp, headers: {} })
  }

  private event(key: string, streak: StreakAnomaly, lastWindow: TimeWindow): AnomalyEvent {
    const { comparison, bound, count, aggregate } = this.options
    const what = `${aggregate} of ${this.options.metricName ?? 'metric'}`
    const last = streak.values[streak.values.length - 1] ?? Number.NaN
    const grace = this.options.window.graceMs
    return anomalyEvent(this.options, {
      key,
      idTime: streak.start,
      detectedAt: lastWindow.end + grace,
      detectorType: 'rule',
      severity: this.options.severity ?? 'warning',
      score: anomalyScore(streak.length, count),
      title: `${what} ${comparison} ${bound} for ${count} consecutive windows`,
      description: `${what} for ${key} was ${comparison} ${bound} in ${count} consecutive windows from ${new Date(streak.start).toISOString()} to ${new Date(lastWindow.end).toISOString()}: ${streak.values.join(', ')}.`,
      metrics: { baseline_value: null, observed_value: last, deviation: last - bound, threshold: bound },
      windowStart: streak.start,
      windowEnd: lastWindow.end,
      sampleEvents: streak.values.map(String),
    })
  }
}

/**
 * `<name>-window`, `<name>-final`, then `<name>` (store `<name>-state`): one AnomalyEvent per streak
 * of `count` consecutive windows, keyed by the source key, when its `count`-th window closes;
 * anomaly_id = anomalyId(id, key, the first window's start); context {window_start: the first
 * window's start, window_end: the last window's end}; sample_events: the windows' values.
 */
export function consecutiveWindows<V>(stream: KStream<string, V>, options: ConsecutiveWindowsOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `consecutiveWindows('${name}')`
  checkDetectorId(operator, options.id)
  checkWindowOptions(operator, options.window, options.aggregate, options.metric)
  if (!COMPARISONS.includes(options.comparison)) throw new Error(`${operator}: 'comparison' must be one of ${COMPARISONS.join(' ')}, got ${String(options.comparison)}`)
  if (!Number.isFinite(options.bound)) throw new Error(`${operator}: 'bound' must be a finite number, got ${options.bound}`)
  if (!Number.isInteger(options.count) || options.count < 1) throw new Error(`${operator}: 'count' must be an integer >= 1, got ${options.count}`)
  const detector = new ConsecutiveThreshold({ comparison: options.comparison, bound: options.bound, count: options.count })
  const store = Stores.keyValue(`${name}-state`, Serdes.string(), Serdes.json<WindowStreakSlot>())
  return finalWindowAccumulators(stream, { name, window: options.window, metric: options.metric ?? (() => 1) }).process(() => new ConsecutiveWindowsProcessor(options, detector, store), {
    name,
    stores: [store],
  })
}
