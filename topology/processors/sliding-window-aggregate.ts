/**
 * Aggregation over Kafka Streams' sliding windows (KStreamSlidingWindowAggregate's algorithm): each
 * record reads its key's windows starting in [t - 2d, t + 1] (prefetched per batch as a range, see
 * `startsReadBySlidingWindows`), updates every open window containing it, and creates what is
 * missing: its left window [t - d, t], the right window of the record before it, and its own right
 * window [t + 1, t + 1 + d] when a later record falls there (out-of-order input). Stored values carry
 * the latest record time in the window, which is the timestamp of the update forwarded.
 */
import type { Serde } from '../../schemas/serde.js'
import type { TimeWindow, Windowed, WindowStore } from '../../state/types.js'
import { internal, type InternalProcessorContext } from '../internal-context.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'
import type { SlidingWindows } from '../windows.js'
import { type Aggregator, requireKey, type WindowedAggregateOptions } from './aggregate.js'
import { keyRowId } from './row-id.js'
import type { ValueAndTimestamp } from './value-and-timestamp.js'

/** The window starts a record at `timestamp` reads: every window that can contain it or seed one of its windows. */
export function startsReadBySlidingWindows(windows: SlidingWindows): (timestamp: number) => { from: number; to: number } {
  const d = windows.timeDifferenceMs
  return (timestamp) => ({ from: Math.max(0, timestamp - 2 * d), to: timestamp + 1 })
}

export class SlidingWindowAggregateProcessor<K, V, A> implements Processor<K, V, Windowed<K>, A | null> {
  private context!: InternalProcessorContext<Windowed<K>, A | null>
  private store!: WindowStore<K, ValueAndTimestamp<A>>
  private readonly rowId: (key: K) => string
  private readonly d: number
  /** Whether the record being processed reached a window. */
  private accepted = false

  constructor(
    private readonly windows: SlidingWindows,
    private readonly aggregator: Aggregator<K, V, A>,
    private readonly options: WindowedAggregateOptions,
    keySerde: Serde<K>,
    /** Copies an aggregate that seeds another window, so an aggregator that mutates its input cannot change both. */
    private readonly aggregateSerde: Serde<A>,
  ) {
    this.rowId = keyRowId(keySerde)
    this.d = windows.timeDifferenceMs
  }

  init(context: ProcessorContext<Windowed<K>, A | null>): void {
    this.context = internal(context)
    this.store = context.getStateStore<WindowStore<K, ValueAndTimestamp<A>>>(this.options.storeName)
  }

  process(record: StreamRecord<K, V>): void {
    requireKey(record.key)
    const t = record.timestamp
    const closeTime = this.context.streamTime() - this.windows.graceMs
    this.accepted = false
    // Every window containing t ends by t + d: past that, none can take the record.
    if (t + this.d >= closeTime) {
      if (t < this.d) this.processEarly(record, closeTime)
      else this.processRecord(record, closeTime)
    }
    // Late when no window took it, including a record whose own windows have all closed.
    if (!this.accepted) {
      this.context.recordLate({
        processor: this.options.name,
        closedAt: this.windows.closeTime({ start: t, end: t + this.d }),
        ...(this.options.lateRecordsTopic === undefined ? {} : { lateRecordsTopic: this.options.lateRecordsTopic }),
      })
    }
  }

  private processRecord(record: StreamRecord<K, V>, closeTime: number): void {
    const t = record.timestamp
    const d = this.d
    const starts = new Set<number>()
    let leftAgg: ValueAndTimestamp<A> | undefined
    let rightAgg: ValueAndTimestamp<A> | undefined
    let leftCreated = false
    let rightCreated = false
    let previousTime: number | undefined
    // Newest window first, as Kafka Streams' reverse iteration over a persistent store.
    const found = this.store.findWindows(record.key, Math.max(0, t - 2 * d), t + 1)
    for (let i = found.length - 1; i >= 0; i--) {
      const [start, existing] = found[i]!
      starts.add(start)
      const end = start + d
      if (start === t + 1) {
        rightCreated = true
      } else if (end > t) {
        rightAgg ??= this.copy(existing)
        this.update({ start, end }, existing, record, closeTime)
      } else if (end === t) {
        leftCreated = true
        this.update({ start, end }, existing, record, closeTime)
        // The left window already holds a record at t: every window this record needs exists.
        if (existing.timestamp >= t) return
        previousTime = existing.timestamp
      } else {
        leftAgg = existing
        previousTime = existing.timestamp
        break
      }
    }
    if (previousTime !== undefined) {
      const previousRightStart = previousTime + 1
      if (!starts.has(previousRightStart) && previousRightStart + d >= t) this.update({ start: previousRightStart, end: previousRightStart + d }, undefined, record, closeTime)
    }
    if (!leftCreated) {
      const seed = leftAgg !== undefined && previousTime !== undefined && t - d <= previousTime ? { value: this.copy(leftAgg).value, timestamp: t } : undefined
      this.update({ start: t - d, end: t }, seed, record, closeTime)
    }
    if (!rightCreated && rightAgg !== undefined && rightAgg.timestamp > t) this.createRightWindow(record, rightAgg)
  }

  /**
   * A record earlier than the time difference would have a left window starting before 0: records
   * before d share the window [0, d], and right windows are created as later records come.
   */
  private processEarly(record: StreamRecord<K, V>, closeTime: number): void {
    const t = record.timestamp
    const starts = new Set<number>()
    let combined: [number, ValueAndTimestamp<A>] | undefined
    let rightAgg: ValueAndTimestamp<A> | undefined
    let rightCreated = false
    let previousTime: number | undefined
    for (const [start, existing] of this.store.findWindows(record.key, 0, t + 1)) {
      starts.add(start)
      if (start === 0) {
        combined = [start, existing]
        if (existing.timestamp < t) previousTime = existing.timestamp
      } else if (start <= t) {
        rightAgg = this.copy(existing)
        this.update({ start, end: start + this.d }, existing, record, closeTime)
      } else if (start === t + 1) {
        rightCreated = true
      }
    }
    if (rightAgg === undefined && combined !== undefined && combined[1].timestamp > t) rightAgg = this.copy(combined[1])
    if (!rightCreated && rightAgg !== undefined && rightAgg.timestamp > t) this.createRightWindow(record, rightAgg)
    if (previousTime !== undefined && !starts.has(previousTime + 1)) {
      this.update({ start: previousTime + 1, end: previousTime + 1 + this.d }, undefined, record, closeTime)
    }
    this.update({ start: 0, end: this.d }, combined?.[1], record, closeTime)
  }

  /** The record's right window takes the aggregate of the records after it, as found, without the record. */
  private createRightWindow(record: StreamRecord<K, V>, aggregate: ValueAndTimestamp<A>): void {
    const start = record.timestamp + 1
    this.accepted = true
    this.store.put(record.key, aggregate, start)
    this.forward(record, { start, end: start + this.d }, aggregate.value, aggregate.timestamp)
  }

  private update(window: TimeWindow, existing: ValueAndTimestamp<A> | undefined, record: StreamRecord<K, V>, closeTime: number): void {
    if (window.end < closeTime) return
    this.accepted = true
    const value = this.aggregator(record.key, record.value, existing?.value)
    const timestamp = existing === undefined ? record.timestamp : Math.max(record.timestamp, existing.timestamp)
    this.store.put(record.key, { value, timestamp }, window.start)
    this.forward(record, window, value, timestamp)
  }

  private forward(record: StreamRecord<K, V>, window: TimeWindow, value: A, timestamp: number): void {
    const update = { key: { key: record.key, window }, value, timestamp, headers: record.headers }
    if (!this.context.cachesForwards) return this.context.forward(update)
    this.context.forwardLatest(update, window.start, this.rowId(record.key), record.key, this.windows.closeTime(window))
  }

  private copy(entry: ValueAndTimestamp<A>): ValueAndTimestamp<A> {
    return { value: this.aggregateSerde.deserialize(this.aggregateSerde.serialize(entry.value)), timestamp: entry.timestamp }
  }
}
