/** Grouped aggregations: per key, per time window, and per session. */
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore, SessionStore, Windowed, WindowStore } from '../../state/types.js'
import { internal, type InternalProcessorContext } from '../internal-context.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'
import type { SessionWindows, TimeWindows } from '../windows.js'
import { keyRowId } from './row-id.js'

/** Folds a value into the aggregate (`undefined` for a key's or window's first value). */
export type Aggregator<K, V, A> = (key: K, value: V, aggregate: A | undefined) => A
/** Combines the aggregates of two sessions that a new record bridges. */
export type Merger<K, A> = (key: K, left: A, right: A) => A

export function requireKey(key: unknown): void {
  if (key === null || key === undefined) {
    throw new Error('a grouped aggregation needs a key; null keys cannot be aggregated (groupBy() to a non-null key)')
  }
}

/**
 * Aggregations and table sources forward through `forwardLatest`: with the task's forwarding cache
 * on, downstream sees the latest value per row once per commit rather than every update.
 */
export class KeyValueAggregateProcessor<K, V, A> implements Processor<K, V, K, A | null> {
  private context!: InternalProcessorContext<K, A | null>
  private store!: KeyValueStore<K, A>
  private readonly rowId: (key: K) => string
  constructor(
    private readonly storeName: string,
    private readonly aggregator: Aggregator<K, V, A>,
    keySerde: Serde<K>,
  ) {
    this.rowId = keyRowId(keySerde)
  }
  init(context: ProcessorContext<K, A | null>): void {
    this.context = internal(context)
    this.store = context.getStateStore<KeyValueStore<K, A>>(this.storeName)
  }
  process(record: StreamRecord<K, V>): void {
    requireKey(record.key)
    const next = this.aggregator(record.key, record.value, this.store.get(record.key))
    this.store.put(record.key, next)
    const update = { key: record.key, value: next, timestamp: record.timestamp, headers: record.headers }
    if (this.context.cachesForwards) this.context.forwardLatest(update, 0, this.rowId(record.key), record.key, Infinity)
    else this.context.forward(update)
  }
}

export interface WindowedAggregateOptions {
  readonly name: string
  readonly storeName: string
  readonly lateRecordsTopic?: string
}

export class TimeWindowAggregateProcessor<K, V, A> implements Processor<K, V, Windowed<K>, A | null> {
  private context!: InternalProcessorContext<Windowed<K>, A | null>
  private store!: WindowStore<K, A>
  private readonly rowId: (key: K) => string
  constructor(
    private readonly windows: TimeWindows,
    private readonly aggregator: Aggregator<K, V, A>,
    private readonly options: WindowedAggregateOptions,
    keySerde: Serde<K>,
  ) {
    this.rowId = keyRowId(keySerde)
  }
  init(context: ProcessorContext<Windowed<K>, A | null>): void {
    this.context = internal(context)
    this.store = context.getStateStore<WindowStore<K, A>>(this.options.storeName)
  }
  process(record: StreamRecord<K, V>): void {
    requireKey(record.key)
    const streamTime = this.context.streamTime()
    let accepted = false
    let closedAt = -1
    for (const window of this.windows.windowsFor(record.timestamp)) {
      const close = this.windows.closeTime(window)
      if (close <= streamTime) {
        closedAt = Math.max(closedAt, close)
        continue
      }
      accepted = true
      const next = this.aggregator(record.key, record.value, this.store.get(record.key, window.start))
      this.store.put(record.key, next, window.start)
      const update = { key: { key: record.key, window }, value: next, timestamp: record.timestamp, headers: record.headers }
      // Due when the window closes: suppress, downstream, must see its final value before emitting it.
      if (this.context.cachesForwards) this.context.forwardLatest(update, window.start, this.rowId(record.key), record.key, close)
      else this.context.forward(update)
    }
    if (!accepted) {
      this.context.recordLate({
        processor: this.options.name,
        closedAt,
        ...(this.options.lateRecordsTopic === undefined ? {} : { lateRecordsTopic: this.options.lateRecordsTopic }),
      })
    }
  }
}

export class SessionWindowAggregateProcessor<K, V, A> implements Processor<K, V, Windowed<K>, A | null> {
  private context!: InternalProcessorContext<Windowed<K>, A | null>
  private store!: SessionStore<K, A>
  private readonly rowId: (key: K) => string
  constructor(
    private readonly windows: SessionWindows,
    private readonly aggregator: Aggregator<K, V, A>,
    private readonly merger: Merger<K, A>,
    private readonly options: WindowedAggregateOptions,
    keySerde: Serde<K>,
  ) {
    this.rowId = keyRowId(keySerde)
  }
  init(context: ProcessorContext<Windowed<K>, A | null>): void {
    this.context = internal(context)
    this.store = context.getStateStore<SessionStore<K, A>>(this.options.storeName)
  }
  process(record: StreamRecord<K, V>): void {
    requireKey(record.key)
    const { key, timestamp } = record
    const gap = this.windows.gapMs
    const streamTime = this.context.streamTime()
    // A closed session is final (suppress may have emitted it): a record never re-opens it, whether
    // or not the store has expired it yet.
    const overlapping = this.store
      .findSessions(key, timestamp - gap, timestamp + gap)
      .filter(([session]) => this.windows.closeTime(session) > streamTime)
    let start = timestamp
    let end = timestamp
    let merged: A | undefined
    for (const [session, value] of overlapping) {
      start = Math.min(start, session.start)
      end = Math.max(end, session.end)
      merged = merged === undefined ? value : this.merger(key, merged, value)
    }
    const window = { start, end }
    const close = this.windows.closeTime(window)
    if (close <= streamTime) {
      this.context.recordLate({
        processor: this.options.name,
        closedAt: close,
        ...(this.options.lateRecordsTopic === undefined ? {} : { lateRecordsTopic: this.options.lateRecordsTopic }),
      })
      return
    }
    for (const [session] of overlapping) {
      if (session.start === start && session.end === end) continue
      this.store.remove(session)
      // A merged-away session: its delete is due when it would have closed, before the merged one.
      this.forward({ key: { key, window: { start: session.start, end: session.end } }, value: null, timestamp, headers: record.headers })
    }
    const next = this.aggregator(key, record.value, merged)
    this.store.put({ key, start, end }, next)
    this.forward({ key: { key, window }, value: next, timestamp, headers: record.headers })
  }

  private forward(update: StreamRecord<Windowed<K>, A | null>): void {
    const { key, window } = update.key
    if (!this.context.cachesForwards) return this.context.forward(update)
    this.context.forwardLatest(update, window.start, `${window.end}|${this.rowId(key)}`, key, this.windows.closeTime(window))
  }
}
