import { longSerde } from '../schemas/primitive-serdes.js'
import type { Serde } from '../schemas/serde.js'
import { windowedSerde } from '../schemas/windowed-serde.js'
import type { TimeWindow, Windowed } from '../state/types.js'
import { requireSerde } from './dsl-context.js'
import type { KStream } from './kstream.js'
import { KTable } from './ktable.js'
import {
  type Aggregator,
  KeyValueAggregateProcessor,
  type Merger,
  SessionWindowAggregateProcessor,
  TimeWindowAggregateProcessor,
  type WindowedAggregateOptions as ProcessorWindowedOptions,
} from './processors/aggregate.js'
import type { Processor } from './processor.js'
import { SlidingWindowAggregateProcessor, startsReadBySlidingWindows } from './processors/sliding-window-aggregate.js'
import { valueAndTimestampSerde } from './processors/value-and-timestamp.js'
import { Stores, type WindowStoreDefinition } from './stores.js'
import { SessionWindows, SlidingWindows, TimeWindows } from './windows.js'

export interface AggregateOptions {
  /** Names the operator; the store is then `<name>-store` unless `store` is given. */
  name?: string
  /** The state store's name (its changelog is `<applicationId>-<store>-changelog`). */
  store?: string
  /** Keep a changelog (default true). */
  logged?: boolean
}

export interface WindowedAggregateOptions extends AggregateOptions {
  /** Also send late records (raw, as consumed) to this topic, with headers saying why. */
  lateRecordsTopic?: string
  /** Keep windows this long in the store (default and minimum: size + grace). */
  retentionMs?: number
}

interface Names {
  processor: string
  store: string
  /** Base of the repartition topic, if one is needed: `<base>-repartition`. */
  repartitionBase: string
}

function names(stream: KStream<unknown, unknown>, options: AggregateOptions, operator: string): Names {
  const graph = stream.ctx.graph
  const processor = graph.nameFor(options.name, 'KSTREAM-AGGREGATE', operator)
  const store = options.store ?? (options.name !== undefined ? `${options.name}-store` : `${processor.replace('KSTREAM-AGGREGATE', 'KSTREAM-AGGREGATE-STATE-STORE')}`)
  return { processor, store, repartitionBase: options.name ?? store }
}

const countAggregator = (_key: unknown, _value: unknown, count: number | undefined): number => (count ?? 0) + 1

/** A stream grouped by key, ready to aggregate. */
export class KGroupedStream<K, V> {
  /** @internal */
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly keySerde: Serde<K> | undefined,
    private readonly valueSerde: Serde<V> | undefined,
    private readonly groupName: string | undefined,
  ) {}

  /** @internal Repartitions if the key changed; returns the stream to aggregate and its key serde. */
  input(names: Names, operator: string): { stream: KStream<K, V>; key: Serde<K> } {
    const key = this.keySerde
    if (key === undefined) {
      throw new Error(
        `${operator}${names.processor.startsWith('KSTREAM-') ? '' : ` '${names.processor}'`}: the grouping key serde is unknown (the key changed upstream, and the store and repartition topic hold keys as bytes); pass { key: Serdes.<type>() } to groupByKey()`,
      )
    }
    if (!this.stream.keyChanged) return { stream: this.stream, key }
    const base = this.groupName ?? names.repartitionBase
    const stream = this.stream.throughRepartitionTopic(base, operator, key, this.valueSerde)
    return { stream, key }
  }

  count(options: AggregateOptions = {}): KTable<K, number> {
    return this.aggregateWith('count()', countAggregator as Aggregator<K, V, number>, longSerde(), options)
  }

  reduce(reducer: (aggregate: V, value: V, key: K) => V, options: AggregateOptions & { value?: Serde<V> } = {}): KTable<K, V> {
    const operator = `reduce(${options.name ?? ''})`
    const value = requireSerde(options.value ?? this.valueSerde, operator, 'value', 'the aggregate is stored as bytes')
    return this.aggregateWith(operator, (key, v, agg) => (agg === undefined ? v : reducer(agg, v, key)), value, options)
  }

  aggregate<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    options: AggregateOptions & { value: Serde<A> },
  ): KTable<K, A> {
    return this.aggregateWith(
      `aggregate(${options.name ?? ''})`,
      (key, v, agg) => aggregator(key, v, agg === undefined ? initializer() : agg),
      options.value,
      options,
    )
  }

  private aggregateWith<A>(operator: string, aggregator: Aggregator<K, V, A>, valueSerde: Serde<A>, options: AggregateOptions): KTable<K, A> {
    const n = names(this.stream as KStream<unknown, unknown>, options, operator)
    const { stream, key } = this.input(n, operator)
    const ctx = stream.ctx
    ctx.graph.addStore(Stores.keyValue(n.store, key, valueSerde, { logged: options.logged ?? true }), operator)
    ctx.addProcessor(n.processor, [stream.node], () => new KeyValueAggregateProcessor(n.store, aggregator, key), [n.store])
    return new KTable<K, A>(ctx, n.processor, key, valueSerde, n.store, undefined)
  }

  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V>
  windowedBy(windows: SlidingWindows): SlidingWindowedKStream<K, V>
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>
  windowedBy(windows: TimeWindows | SlidingWindows | SessionWindows): TimeWindowedKStream<K, V> | SlidingWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    if (windows instanceof TimeWindows) return new TimeWindowedKStream(this, windows, this.valueSerde)
    if (windows instanceof SlidingWindows) return new SlidingWindowedKStream(this, windows, this.valueSerde)
    if (windows instanceof SessionWindows) return new SessionWindowedKStream(this, windows, this.valueSerde)
    throw new Error('windowedBy(): pass TimeWindows.tumbling/hopping(...), SlidingWindows.ofTimeDifferenceAndGrace(...) or SessionWindows.withGap(...)')
  }

  /** @internal */
  get source(): KStream<K, V> {
    return this.stream
  }
}

function lateOption(options: WindowedAggregateOptions): { lateRecordsTopic?: string } {
  return options.lateRecordsTopic === undefined ? {} : { lateRecordsTopic: options.lateRecordsTopic }
}

/** count, reduce and aggregate over windows, for the window kinds that share them (time, sliding). */
abstract class WindowedAggregations<K, V> {
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    /** Names the operators in errors: `windowed`, `sliding`. */
    private readonly kindLabel: string,
    private readonly valueSerde: Serde<V> | undefined,
  ) {}

  count(options: WindowedAggregateOptions = {}): KTable<Windowed<K>, number> {
    return this.aggregateWith(`${this.kindLabel} count()`, countAggregator as Aggregator<K, V, number>, longSerde(), options)
  }

  reduce(reducer: (aggregate: V, value: V, key: K) => V, options: WindowedAggregateOptions & { value?: Serde<V> } = {}): KTable<Windowed<K>, V> {
    const operator = `${this.kindLabel} reduce(${options.name ?? ''})`
    const value = requireSerde(options.value ?? this.valueSerde, operator, 'value', 'the aggregate is stored as bytes')
    return this.aggregateWith(operator, (key, v, agg) => (agg === undefined ? v : reducer(agg, v, key)), value, options)
  }

  aggregate<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    options: WindowedAggregateOptions & { value: Serde<A> },
  ): KTable<Windowed<K>, A> {
    return this.aggregateWith(
      `${this.kindLabel} aggregate(${options.name ?? ''})`,
      (key, v, agg) => aggregator(key, v, agg === undefined ? initializer() : agg),
      options.value,
      options,
    )
  }

  /** The shortest retention that keeps every window a record within grace may read. */
  protected abstract readonly minRetentionMs: number
  protected abstract windowStore<A>(name: string, key: Serde<K>, value: Serde<A>, retentionMs: number, logged: boolean): WindowStoreDefinition<K, unknown>
  protected abstract aggregator<A>(aggregator: Aggregator<K, V, A>, options: ProcessorWindowedOptions, key: Serde<K>, value: Serde<A>): Processor<K, V, Windowed<K>, A | null>
  protected abstract closeTime(window: TimeWindow): number

  private aggregateWith<A>(operator: string, aggregator: Aggregator<K, V, A>, valueSerde: Serde<A>, options: WindowedAggregateOptions): KTable<Windowed<K>, A> {
    const n = names(this.grouped.source as KStream<unknown, unknown>, options, operator)
    const { stream, key } = this.grouped.input(n, operator)
    const ctx = stream.ctx
    const retentionMs = Math.max(options.retentionMs ?? this.minRetentionMs, this.minRetentionMs)
    ctx.graph.addStore(this.windowStore(n.store, key, valueSerde, retentionMs, options.logged ?? true), operator)
    const processorOptions = { name: n.processor, storeName: n.store, ...lateOption(options) }
    ctx.addProcessor(n.processor, [stream.node], () => this.aggregator(aggregator, processorOptions, key, valueSerde), [n.store])
    return new KTable<Windowed<K>, A>(ctx, n.processor, windowedSerde(key), valueSerde, undefined, (w) => this.closeTime(w))
  }
}

/** A grouped stream cut into fixed time windows (tumbling or hopping). */
export class TimeWindowedKStream<K, V> extends WindowedAggregations<K, V> {
  protected readonly minRetentionMs: number

  /** @internal */
  constructor(
    grouped: KGroupedStream<K, V>,
    private readonly windows: TimeWindows,
    valueSerde: Serde<V> | undefined,
  ) {
    super(grouped, 'windowed', valueSerde)
    this.minRetentionMs = windows.sizeMs + windows.graceMs
  }

  protected windowStore<A>(name: string, key: Serde<K>, value: Serde<A>, retentionMs: number, logged: boolean): WindowStoreDefinition<K, unknown> {
    const windows = this.windows
    return Stores.window(name, key, value, { windowSizeMs: windows.sizeMs, retentionMs, logged, windowsFor: (timestamp) => windows.windowsFor(timestamp) })
  }

  protected aggregator<A>(aggregator: Aggregator<K, V, A>, options: ProcessorWindowedOptions, key: Serde<K>): Processor<K, V, Windowed<K>, A | null> {
    return new TimeWindowAggregateProcessor(this.windows, aggregator, options, key)
  }

  protected closeTime(window: TimeWindow): number {
    return this.windows.closeTime(window)
  }
}

/**
 * A grouped stream over sliding windows (Kafka Streams' `SlidingWindows`): one window per
 * record-defined span of the time difference, each aggregate forwarded when it changes. The store
 * holds `{ value, timestamp }` per window (the aggregate and its latest record's time).
 */
export class SlidingWindowedKStream<K, V> extends WindowedAggregations<K, V> {
  protected readonly minRetentionMs: number

  /** @internal */
  constructor(
    grouped: KGroupedStream<K, V>,
    private readonly windows: SlidingWindows,
    valueSerde: Serde<V> | undefined,
  ) {
    super(grouped, 'sliding', valueSerde)
    // A record within grace reads windows starting up to 2 × the time difference before it (Kafka
    // Streams' minimum retention for sliding windows).
    this.minRetentionMs = 2 * windows.timeDifferenceMs + windows.graceMs
  }

  protected windowStore<A>(name: string, key: Serde<K>, value: Serde<A>, retentionMs: number, logged: boolean): WindowStoreDefinition<K, unknown> {
    const windows = this.windows
    return Stores.window(name, key, valueAndTimestampSerde(value), { windowSizeMs: windows.timeDifferenceMs, retentionMs, logged, startsRead: startsReadBySlidingWindows(windows) })
  }

  protected aggregator<A>(aggregator: Aggregator<K, V, A>, options: ProcessorWindowedOptions, key: Serde<K>, value: Serde<A>): Processor<K, V, Windowed<K>, A | null> {
    return new SlidingWindowAggregateProcessor(this.windows, aggregator, options, key, value)
  }

  protected closeTime(window: TimeWindow): number {
    return this.windows.closeTime(window)
  }
}

/** A grouped stream cut into sessions by an inactivity gap. */
export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: SessionWindows,
    private readonly valueSerde: Serde<V> | undefined,
  ) {}

  count(options: WindowedAggregateOptions = {}): KTable<Windowed<K>, number> {
    return this.aggregateWith(
      'session count()',
      countAggregator as Aggregator<K, V, number>,
      (_k, a, b) => a + b,
      longSerde(),
      options,
    )
  }

  reduce(reducer: (aggregate: V, value: V, key: K) => V, options: WindowedAggregateOptions & { value?: Serde<V> } = {}): KTable<Windowed<K>, V> {
    const operator = `session reduce(${options.name ?? ''})`
    const value = requireSerde(options.value ?? this.valueSerde, operator, 'value', 'the aggregate is stored as bytes')
    return this.aggregateWith(
      operator,
      (key, v, agg) => (agg === undefined ? v : reducer(agg, v, key)),
      (key, a, b) => reducer(a, b, key),
      value,
      options,
    )
  }

  /** `merger` combines two sessions' aggregates when a record bridges them. */
  aggregate<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    merger: Merger<K, A>,
    options: WindowedAggregateOptions & { value: Serde<A> },
  ): KTable<Windowed<K>, A> {
    return this.aggregateWith(
      `session aggregate(${options.name ?? ''})`,
      (key, v, agg) => aggregator(key, v, agg === undefined ? initializer() : agg),
      merger,
      options.value,
      options,
    )
  }

  private aggregateWith<A>(
    operator: string,
    aggregator: Aggregator<K, V, A>,
    merger: Merger<K, A>,
    valueSerde: Serde<A>,
    options: WindowedAggregateOptions,
  ): KTable<Windowed<K>, A> {
    const n = names(this.grouped.source as KStream<unknown, unknown>, options, operator)
    const { stream, key } = this.grouped.input(n, operator)
    const ctx = stream.ctx
    const windows = this.windows
    const minRetention = windows.gapMs + windows.graceMs
    const retentionMs = Math.max(options.retentionMs ?? minRetention, minRetention)
    ctx.graph.addStore(Stores.session(n.store, key, valueSerde, { retentionMs, gapMs: windows.gapMs, logged: options.logged ?? true }), operator)
    const late = lateOption(options)
    ctx.addProcessor(
      n.processor,
      [stream.node],
      () => new SessionWindowAggregateProcessor(windows, aggregator, merger, { name: n.processor, storeName: n.store, ...late }, key),
      [n.store],
    )
    return new KTable<Windowed<K>, A>(ctx, n.processor, windowedSerde(key), valueSerde, undefined, (w) => windows.closeTime(w))
  }
}
