/**
 * Percentile threshold as a DSL operator: per key, a window's p-quantile of a metric (e.g. p99
 * latency) above a fixed bound, or above `factor` × its baseline (an EWMA of the key's previous
 * windows' quantiles, in a logged store keyed by the source key), or either.
 *
 * A window keeps at most `maxSamples` values: beyond that, a reservoir sample (Algorithm R) whose
 * replacement slots come from a hash of the key and the sample's position in its window, not from
 * a random generator, so a replay keeps the same samples and yields the same verdicts.
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore, Windowed } from '../../state/types.js'
import {
  type KStream,
  type KeyValueStoreDefinition,
  type Processor,
  type ProcessorContext,
  type StreamRecord,
  Stores,
  Suppressed,
  type TimeWindows,
} from '../../topology/index.js'
import type { EwmaState } from '../detectors/baseline.js'
import { type QuantileParams, WindowedQuantileDetector, checkQuantileParams } from '../detectors/quantile.js'
import { anomalySeverity } from '../detectors/severity.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { LiveParameters, type LiveProvider, problemOf } from './live-parameters.js'
import { checkWindowOptions } from './windowed-detector.js'

export interface QuantileWindowsOptions<V> extends AnomalyOutputOptions<V> {
  /** Prefix of the operator and store names (default: `id`). */
  readonly name?: string
  readonly metric: (value: V, key: string) => number
  readonly metricName?: string
  readonly window: TimeWindows
  /** The quantile, in (0, 1], e.g. 0.99. */
  readonly p: number
  /** Anomalous above this value of the quantile... */
  readonly bound?: number
  /** ...or above this multiple (> 1) of its baseline; with both, the lower limit applies. */
  readonly factor?: number
  /** EWMA weight of the baseline (default 0.1) and windows before the factor applies (default 5). */
  readonly alpha?: number
  readonly minHistory?: number
  /** Values kept per window (default 2048); beyond it, a deterministic reservoir sample. */
  readonly maxSamples?: number
  /** Read once per closed window: the bound, factor and minHistory in force (see zScoreWindows). */
  readonly live?: LiveProvider<QuantileParams>
}

export interface QuantileAccumulator {
  /** Values seen in the window (finite ones). */
  readonly seen: number
  readonly samples: number[]
}

export interface QuantileSlot {
  readonly last: number | null
  readonly baseline: EwmaState
}

/** A 32-bit mix (murmur3's finaliser) of the sample's position and a per-window seed. */
function slotHash(seed: number, position: number): number {
  let h = (seed ^ Math.imul(position, 0x9e3779b1)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

function keySeed(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0
  return h
}

export function addSample(acc: QuantileAccumulator, value: number, maxSamples: number, seed: number): QuantileAccumulator {
  const seen = acc.seen + 1
  if (acc.samples.length < maxSamples) return { seen, samples: [...acc.samples, value] }
  // Algorithm R: the seen-th value replaces a kept one with probability maxSamples / seen.
  const slot = slotHash(seed, seen) % seen
  if (slot >= maxSamples) return { seen, samples: acc.samples }
  const samples = acc.samples.slice()
  samples[slot] = value
  return { seen, samples }
}

class QuantileWindowsProcessor<V> implements Processor<Windowed<string>, QuantileAccumulator, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private slots!: KeyValueStore<string, QuantileSlot>

  constructor(
    private readonly options: QuantileWindowsOptions<V>,
    private readonly detector: WindowedQuantileDetector,
    private readonly params: LiveParameters<QuantileParams>,
    private readonly store: KeyValueStoreDefinition<string, QuantileSlot>,
  ) {}

  init(context: ProcessorContext<string, AnomalyEvent>): void {
    this.context = context
    this.slots = context.getStateStore(this.store)
  }

  process(record: StreamRecord<Windowed<string>, QuantileAccumulator>): void {
    const { key, window } = record.key
    const slot = this.slots.get(key)
    if (slot !== undefined && slot.last !== null && window.start <= slot.last) return
    if (record.value.samples.length === 0) return
    const params = this.params.read()
    const { state, verdict } = this.detector.step(slot?.baseline ?? this.detector.initial(), record.value.samples, params)
    this.slots.put(key, { last: window.start, baseline: state })
    if (!verdict.anomalous || verdict.severity === undefined) return
    const what = `p${+(this.options.p * 100).toFixed(2)} of ${this.options.metricName ?? 'metric'}`
    const limit = verdict.reason === 'bound' ? `the bound ${verdict.limit}` : `${params.factor} × its baseline ${verdict.baselineValue} = ${verdict.limit}`
    const event = anomalyEvent(this.options, {
      key,
      idTime: window.start,
      detectedAt: window.end + this.options.window.graceMs,
      detectorType: 'statistical',
      severity: anomalySeverity(verdict.severity),
      score: verdict.score,
      title: `${what} ${verdict.observed} above ${verdict.reason === 'bound' ? 'its bound' : `${params.factor}× baseline`}`,
      description: `${what} for ${key} was ${verdict.observed} in the window (${record.value.seen} values), above ${limit}.`,
      metrics: {
        baseline_value: Number.isNaN(verdict.baselineValue) ? null : verdict.baselineValue,
        observed_value: verdict.observed,
        deviation: verdict.ratio,
        threshold: verdict.limit,
      },
      windowStart: window.start,
      windowEnd: window.end,
    })
    this.context.forward({ key, value: event, timestamp: record.timestamp, headers: {} })
  }
}

/** What the quantile core needs; the rest of the options is about windows, sampling and output. */
export type QuantileCoreOptions = Pick<QuantileWindowsOptions<unknown>, 'p' | 'bound' | 'factor' | 'alpha' | 'minHistory'>

/**
 * The core quantileWindows steps per key over its `<name>-state` store (`QuantileSlot.baseline`),
 * from the same options: `step(baseline, samples)` judges a window's samples without storing.
 */
export function quantileCore(options: QuantileCoreOptions): WindowedQuantileDetector {
  return new WindowedQuantileDetector({
    p: options.p,
    ...(options.bound === undefined ? {} : { bound: options.bound }),
    ...(options.factor === undefined ? {} : { factor: options.factor }),
    ...(options.alpha === undefined ? {} : { alpha: options.alpha }),
    ...(options.minHistory === undefined ? {} : { minHistory: options.minHistory }),
  })
}

/**
 * `<name>-window` (window store of samples), `<name>-final`, then `<name>` (store `<name>-state`):
 * one AnomalyEvent per window whose quantile exceeds the limit, keyed by the source key, anomaly_id
 * = anomalyId(id, key, windowStart); metrics {observed_value: the quantile, threshold: the limit
 * applied, deviation: observed / limit, baseline_value: the baseline quantile}; score and severity
 * from observed / limit.
 */
export function quantileWindows<V>(stream: KStream<string, V>, options: QuantileWindowsOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `quantileWindows('${name}')`
  checkDetectorId(operator, options.id)
  checkWindowOptions(operator, options.window, 'max', options.metric)
  const maxSamples = options.maxSamples ?? 2048
  if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new Error(`${operator}: 'maxSamples' must be an integer >= 1, got ${maxSamples}`)
  const detector = quantileCore(options)
  const params = new LiveParameters<QuantileParams>(operator, detector.config, options.live, (p) => problemOf(() => checkQuantileParams(p)))
  const metric = options.metric
  const store = Stores.keyValue(`${name}-state`, Serdes.string(), Serdes.json<QuantileSlot>())
  return stream
    .groupByKey({ key: Serdes.string() })
    .windowedBy(options.window)
    .aggregate<QuantileAccumulator>(
      () => ({ seen: 0, samples: [] }),
      (key, value, acc) => {
        const x = metric(value, key)
        if (!Number.isFinite(x)) return acc
        return addSample(acc, x, maxSamples, keySeed(key))
      },
      { name: `${name}-window`, value: Serdes.json<QuantileAccumulator>() },
    )
    .suppress(Suppressed.untilWindowCloses({ name: `${name}-final` }))
    .toStream({ name: `${name}-closed` })
    .process(() => new QuantileWindowsProcessor(options, detector, params, store), { name, stores: [store] })
}
