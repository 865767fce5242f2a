/**
 * The shared shape of the windowed detector operators (z-score, EWMA deviation): final window
 * aggregates per key -> a processor stepping a detector core whose state lives in a logged
 * key-value store keyed by the source key (so it is prefetched, and restored after a restart).
 *
 * Per key the store holds the core's state and the start of the last window judged:
 * - a window at or before it is skipped, so a window emitted twice (a replay) is not learned twice;
 * - for aggregates whose empty window is 0 (count, sum, rate), the windows between it and the new
 *   one had no records and so were never emitted: up to `maxFill` of them are stepped through the
 *   core as 0 before the new window (their verdicts are dropped: they are learned, damped like any
 *   window, but not reported, since they could only be reported late).
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore, TimeWindow, Windowed } from '../../state/types.js'
import {
  type KStream,
  type KeyValueStoreDefinition,
  type Processor,
  type ProcessorContext,
  type StreamRecord,
  Stores,
  type TimeWindows,
} from '../../topology/index.js'
import type { LiveParameters } from './live-parameters.js'
import { type WindowAccumulator, type WindowAggregate, WINDOW_AGGREGATES, emptyWindowIsZero, finalWindowAccumulators, windowValue } from './window-metric.js'

/**
 * A detector core stepping over window values (ZScoreDetector, EwmaDeviationDetector, ...); `params`
 * are the live parameters in force for the step (live-parameters.ts), its own when undefined.
 */
export interface WindowCore<S, Verdict, P = never> {
  initial(): S
  step(state: S, value: number, params?: P): { state: S; verdict: Verdict }
}

export interface DetectorSlot<S> {
  /** Start of the last window judged (null before the first). */
  readonly last: number | null
  readonly core: S
}

export interface WindowedDetectorSpec<V, S, Verdict, P = never> {
  readonly operator: string
  readonly name: string
  readonly window: TimeWindows
  readonly aggregate: WindowAggregate
  readonly metric: ((value: V, key: string) => number) | undefined
  readonly core: WindowCore<S, Verdict, P>
  /** Read once per closed window; absent: the core's own parameters. */
  readonly params?: LiveParameters<P>
  /** At most this many empty windows are learned as 0 before a window (see above). */
  readonly maxFill: number
  /** The anomaly for this verdict, or undefined when the window is normal. */
  readonly toEvent: (verdict: Verdict, key: string, window: TimeWindow, params: P | undefined) => AnomalyEvent | undefined
}

export function checkWindowOptions(operator: string, window: TimeWindows, aggregate: WindowAggregate, metric: unknown): void {
  if (window.advanceMs !== window.sizeMs) {
    throw new Error(
      `${operator}: 'window' must be tumbling (TimeWindows.tumbling(sizeMs, { graceMs })); hopping windows overlap, so their values are not independent samples for a baseline`,
    )
  }
  if (!WINDOW_AGGREGATES.includes(aggregate))
    throw new Error(`${operator}: 'aggregate' must be one of ${WINDOW_AGGREGATES.join(', ')}, got ${String(aggregate)}`)
  if (metric === undefined && (aggregate === 'mean' || aggregate === 'max')) {
    throw new Error(`${operator}: aggregate '${aggregate}' needs a 'metric' ((value, key) => number); only 'count', 'sum' and 'rate' default to 1 per record`)
  }
}

class WindowedDetectorProcessor<S, Verdict, P> implements Processor<Windowed<string>, WindowAccumulator, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private slots!: KeyValueStore<string, DetectorSlot<S>>
  private readonly fillZeros: boolean

  constructor(
    private readonly spec: WindowedDetectorSpec<unknown, S, Verdict, P>,
    private readonly store: KeyValueStoreDefinition<string, DetectorSlot<S>>,
  ) {
    this.fillZeros = emptyWindowIsZero(spec.aggregate) && spec.maxFill > 0
  }

  init(context: ProcessorContext<string, AnomalyEvent>): void {
    this.context = context
    this.slots = context.getStateStore(this.store)
  }

  process(record: StreamRecord<Windowed<string>, WindowAccumulator>): void {
    const { key, window } = record.key
    const { core, aggregate } = this.spec
    const size = this.spec.window.sizeMs
    const slot = this.slots.get(key)
    if (slot !== undefined && slot.last !== null && window.start <= slot.last) return
    let state = slot?.core ?? core.initial()
    const params = this.spec.params?.read()
    if (this.fillZeros && slot !== undefined && slot.last !== null) {
      const empty = Math.min(Math.round((window.start - slot.last) / size) - 1, this.spec.maxFill)
      for (let i = 0; i < empty; i++) state = core.step(state, 0, params).state
    }
    const value = windowValue(record.value, aggregate, size)
    if (Number.isFinite(value)) {
      const stepped = core.step(state, value, params)
      state = stepped.state
      const event = this.spec.toEvent(stepped.verdict, key, window, params)
      if (event !== undefined) this.context.forward({ key, value: event, timestamp: record.timestamp, headers: {} })
    }
    this.slots.put(key, { last: window.start, core: state })
  }
}

/**
 * Builds the operator chain: `<name>-window`, `<name>-final`, `<name>-closed`, then the detector
 * `<name>` with its store `<name>-state`. The result is keyed by the source key.
 */
export function windowedDetector<V, S, Verdict, P = never>(
  stream: KStream<string, V>,
  spec: WindowedDetectorSpec<V, S, Verdict, P>,
): KStream<string, AnomalyEvent> {
  checkWindowOptions(spec.operator, spec.window, spec.aggregate, spec.metric)
  const metric = spec.metric ?? (() => 1)
  const store = Stores.keyValue(`${spec.name}-state`, Serdes.string(), Serdes.json<DetectorSlot<S>>())
  const generic = spec as unknown as WindowedDetectorSpec<unknown, S, Verdict, P>
  return finalWindowAccumulators(stream, { name: spec.name, window: spec.window, metric }).process(() => new WindowedDetectorProcessor(generic, store), {
    name: spec.name,
    stores: [store],
  })
}
