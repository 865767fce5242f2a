/**
 * The per-key, per-window aggregate every windowed detector operator judges: one accumulator
 * ({count, sum, max}) serves all five aggregates, so the operator's store layout does not depend on
 * which one a user picks.
 */
import { Serdes } from '../../schemas/index.js'
import type { Windowed } from '../../state/types.js'
import { type KStream, Suppressed, type TimeWindows } from '../../topology/index.js'

/**
 * `mean`, `sum`, `max` and `count` of the metric over the window; `rate` = the metric's sum per
 * second of window (with the default metric of 1 per record: records per second).
 */
export type WindowAggregate = 'mean' | 'sum' | 'count' | 'max' | 'rate'

export const WINDOW_AGGREGATES: readonly WindowAggregate[] = ['mean', 'sum', 'count', 'max', 'rate']

export interface WindowAccumulator {
  readonly count: number
  readonly sum: number
  /** -Infinity does not survive JSON, so an empty accumulator's max is null. */
  readonly max: number | null
}

export const EMPTY_ACCUMULATOR: WindowAccumulator = { count: 0, sum: 0, max: null }

export function accumulate(acc: WindowAccumulator, value: number): WindowAccumulator {
  return { count: acc.count + 1, sum: acc.sum + value, max: acc.max === null || value > acc.max ? value : acc.max }
}

/** The window's value under `aggregate`; NaN for a window without (finite) samples. */
export function windowValue(acc: WindowAccumulator, aggregate: WindowAggregate, windowSizeMs: number): number {
  switch (aggregate) {
    case 'count':
      return acc.count
    case 'sum':
      return acc.sum
    case 'rate':
      return acc.sum / (windowSizeMs / 1000)
    case 'mean':
      return acc.count === 0 ? Number.NaN : acc.sum / acc.count
    case 'max':
      return acc.max ?? Number.NaN
  }
}

/**
 * Whether a window without records has a value (0) rather than none. Only then does the operator
 * account for the empty windows that the windowed aggregation never emits.
 */
export function emptyWindowIsZero(aggregate: WindowAggregate): boolean {
  return aggregate === 'count' || aggregate === 'sum' || aggregate === 'rate'
}

export interface WindowMetricOptions<V> {
  /** Prefix of the operators' names, so stores and changelogs keep their names across upgrades. */
  readonly name: string
  readonly window: TimeWindows
  /** The number a record contributes; records giving a non-finite number are not counted. */
  readonly metric: (value: V, key: string) => number
}

/**
 * Final per-window accumulators, one record per key and window when the window closes:
 * `<name>-window` (window store `<name>-window-store`), then `<name>-final` (`<name>-final-store`).
 * The stream stays on the task owning the source key, so a processor after it can keep per-key
 * state in a store keyed by the source key (suppress prefetches those keys before emitting).
 */
export function finalWindowAccumulators<V>(stream: KStream<string, V>, options: WindowMetricOptions<V>): KStream<Windowed<string>, WindowAccumulator> {
  const { name, metric } = options
  return stream
    .groupByKey({ key: Serdes.string() })
    .windowedBy(options.window)
    .aggregate<WindowAccumulator>(
      () => EMPTY_ACCUMULATOR,
      (key, value, acc) => {
        const x = metric(value, key)
        return Number.isFinite(x) ? accumulate(acc, x) : acc
      },
      { name: `${name}-window`, value: Serdes.json<WindowAccumulator>() },
    )
    .suppress(Suppressed.untilWindowCloses({ name: `${name}-final` }))
    .toStream({ name: `${name}-closed` })
}
