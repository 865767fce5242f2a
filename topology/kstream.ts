import type { Serde } from '../schemas/serde.js'
import { DslContext, type Named, requireSerde } from './dsl-context.js'
import type { StreamPartitioner, TopicNameExtractor } from './graph.js'
import { KGroupedStream } from './kgrouped-stream.js'
import { GlobalKTable } from './global-ktable.js'
import { StreamGlobalTableJoinProcessor } from './processors/stream-global-table-join.js'
import type { KTable } from './ktable.js'
import type { ProcessorSupplier } from './processor.js'
import {
  BranchProcessor,
  FilterProcessor,
  FlatMapProcessor,
  FlatMapValuesProcessor,
  type KeyValueMapper,
  MapProcessor,
  MapValuesProcessor,
  PassThroughProcessor,
  PeekProcessor,
  type Predicate,
  SelectKeyProcessor,
  type ValueMapper,
} from './processors/stateless.js'
import { leftOrRightValuesSerde, timestampedKeyAndJoinSideSerde, valueListSerde } from './processors/stream-join-serdes.js'
import { JoinWindowProcessor, startsReadByJoin, type StreamJoiner, StreamStreamJoinProcessor } from './processors/stream-stream-join.js'
import { StreamTableJoinProcessor } from './processors/table.js'
import { type AnyStoreDefinition, Stores } from './stores.js'
import { TimestampExtractors } from './time.js'
import { JoinWindows } from './windows.js'

/** @internal */
export type KeyChange = boolean | 'windowed'

export interface RepartitionOptions<K, V> extends Named {
  key?: Serde<K>
  value?: Serde<V>
  /** Fixed partition count; default: the writing sub-topology's task count. */
  partitions?: number
}

export interface SinkOptions<K, V> extends Named {
  key?: Serde<K>
  value?: Serde<V>
  partitioner?: StreamPartitioner<K, V>
}

export interface ProcessOptions extends Named {
  /** Stores the processor uses: definitions (added to the topology) or names of added stores. */
  stores?: readonly (string | AnyStoreDefinition)[]
}

/** Kafka Streams' `StreamJoined`: serdes of the join stores, and their base name. */
export interface StreamJoinedOptions<K, V, VO> extends Named {
  key?: Serde<K>
  value?: Serde<V>
  /** The other stream's value serde. */
  otherValue?: Serde<VO>
  /** Base of the store names (default: `name`, else generated): `<store>-this-join-store`, `<store>-other-join-store`, ... */
  store?: string
  /** Keep changelogs of the join stores (default true). */
  logged?: boolean
}

export interface GroupedOptions<K, V> extends Named {
  key?: Serde<K>
  value?: Serde<V>
}

/**
 * A record stream. Key and value types flow from the source serdes through every operator; serdes
 * follow along while they still describe the data (a `mapValues` drops the value serde, a `map` or
 * `selectKey` the key serde), and operators that write bytes ask for them when they are unknown.
 *
 * Callbacks take `(key, value, record)`, except the `*Values` ones: `(value, key, record)`.
 */
export class KStream<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly ctx: DslContext,
    /** @internal The node whose output this stream is. */ readonly node: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /**
     * @internal Whether the key differs from the sub-topology's source key: `true` (changed, so
     * stateful operators repartition first) or `'windowed'` (a `Windowed<sourceKey>` from a windowed
     * table: records are still on the task owning the source key, so `process()` with stores keyed by
     * the source key needs no repartition; aggregations over the windowed key do).
     */
    readonly keyChanged: KeyChange,
  ) {}

  private next<K2, V2>(node: string, key: Serde<K2> | undefined, value: Serde<V2> | undefined, keyChanged: KeyChange): KStream<K2, V2> {
    return new KStream(this.ctx, node, key, value, keyChanged)
  }

  private name(named: Named, prefix: string, operator: string): string {
    return this.ctx.graph.nameFor(named.name, prefix, operator)
  }

  filter(predicate: Predicate<K, V>, named: Named = {}): KStream<K, V> {
    const name = this.name(named, 'KSTREAM-FILTER', 'filter()')
    this.ctx.addProcessor(name, [this.node], () => new FilterProcessor(predicate, true))
    return this.next(name, this.keySerde, this.valueSerde, this.keyChanged)
  }

  filterNot(predicate: Predicate<K, V>, named: Named = {}): KStream<K, V> {
    const name = this.name(named, 'KSTREAM-FILTER', 'filterNot()')
    this.ctx.addProcessor(name, [this.node], () => new FilterProcessor(predicate, false))
    return this.next(name, this.keySerde, this.valueSerde, this.keyChanged)
  }

  map<K2, V2>(mapper: KeyValueMapper<K, V, readonly [K2, V2]>, named: Named = {}): KStream<K2, V2> {
    const name = this.name(named, 'KSTREAM-MAP', 'map()')
    this.ctx.addProcessor(name, [this.node], () => new MapProcessor(mapper))
    return this.next<K2, V2>(name, undefined, undefined, true)
  }

  mapValues<V2>(mapper: ValueMapper<K, V, V2>, named: Named = {}): KStream<K, V2> {
    const name = this.name(named, 'KSTREAM-MAPVALUES', 'mapValues()')
    this.ctx.addProcessor(name, [this.node], () => new MapValuesProcessor(mapper))
    return this.next<K, V2>(name, this.keySerde, undefined, this.keyChanged)
  }

  flatMap<K2, V2>(mapper: KeyValueMapper<K, V, Iterable<readonly [K2, V2]>>, named: Named = {}): KStream<K2, V2> {
    const name = this.name(named, 'KSTREAM-FLATMAP', 'flatMap()')
    this.ctx.addProcessor(name, [this.node], () => new FlatMapProcessor(mapper))
    return this.next<K2, V2>(name, undefined, undefined, true)
  }

  flatMapValues<V2>(mapper: ValueMapper<K, V, Iterable<V2>>, named: Named = {}): KStream<K, V2> {
    const name = this.name(named, 'KSTREAM-FLATMAPVALUES', 'flatMapValues()')
    this.ctx.addProcessor(name, [this.node], () => new FlatMapValuesProcessor(mapper))
    return this.next<K, V2>(name, this.keySerde, undefined, this.keyChanged)
  }

  selectKey<K2>(selector: KeyValueMapper<K, V, K2>, named: Named = {}): KStream<K2, V> {
    const name = this.name(named, 'KSTREAM-KEY-SELECT', 'selectKey()')
    this.ctx.addProcessor(name, [this.node], () => new SelectKeyProcessor(selector))
    return this.next<K2, V>(name, undefined, this.valueSerde, true)
  }

  peek(action: KeyValueMapper<K, V, void>, named: Named = {}): KStream<K, V> {
    const name = this.name(named, 'KSTREAM-PEEK', 'peek()')
    this.ctx.addProcessor(name, [this.node], () => new PeekProcessor(action))
    return this.next(name, this.keySerde, this.valueSerde, this.keyChanged)
  }

  /** A terminal operation: `action` runs for each record; nothing is forwarded. */
  foreach(action: KeyValueMapper<K, V, void>, named: Named = {}): void {
    const name = this.name(named, 'KSTREAM-FOREACH', 'foreach()')
    this.ctx.addProcessor(name, [this.node], () => new PeekProcessor(action))
  }

  /** Routes each record to the first matching branch: `split().branch('a', p).defaultBranch('rest')`. */
  split(named: Named = {}): BranchedKStream<K, V, never> {
    const name = this.name(named, 'KSTREAM-BRANCH', 'split()')
    const branches: { predicate: Predicate<K, V>; child: string }[] = []
    const state = { defaultChild: undefined as string | undefined }
    this.ctx.addProcessor(name, [this.node], () => new BranchProcessor(branches, state.defaultChild))
    return new BranchedKStream<K, V, never>(this, name, branches, state, {})
  }

  merge(other: KStream<K, V>, named: Named = {}): KStream<K, V> {
    if (other.ctx !== this.ctx) throw new Error('merge(): both streams must come from the same StreamsBuilder')
    const name = this.name(named, 'KSTREAM-MERGE', 'merge()')
    this.ctx.addProcessor(name, [this.node, other.node], () => new PassThroughProcessor<K, V>())
    return this.next(
      name,
      this.keySerde ?? other.keySerde,
      this.valueSerde ?? other.valueSerde,
      this.keyChanged === true || other.keyChanged === true ? true : this.keyChanged || other.keyChanged,
    )
  }

  /**
   * Writes the stream to an internal topic `<applicationId>-<name>-repartition` and reads it back, so
   * records are partitioned by their current key. Stateful operators do this on their own when the key
   * changed; call it to fix the partition count or the serdes.
   */
  repartition(options: RepartitionOptions<K, V> = {}): KStream<K, V> {
    const base = this.name(options, 'KSTREAM-REPARTITION', 'repartition()')
    if (options.partitions !== undefined && !(Number.isSafeInteger(options.partitions) && options.partitions > 0)) {
      throw new Error(`repartition('${base}'): partitions must be a positive integer (got ${options.partitions})`)
    }
    return this.throughRepartitionTopic(base, `repartition('${base}')`, options.key, options.value, options.partitions)
  }

  /** @internal */
  throughRepartitionTopic(base: string, operator: string, key?: Serde<K>, value?: Serde<V>, partitions?: number): KStream<K, V> {
    const fix = (what: string): string =>
      operator.startsWith('repartition(') ? `pass { ${what}: Serdes.<type>() } to repartition()` : `call .repartition({ ${what}: Serdes.<type>() }) before ${operator}`
    const why = 'it changed upstream and records must go through a repartition topic'
    const keySerde = requireSerde(key ?? this.keySerde, operator, 'key', why, fix('key'))
    const valueSerde = requireSerde(value ?? this.valueSerde, operator, 'value', why, fix('value'))
    const topic = { name: `${base}-repartition`, internal: true }
    const graph = this.ctx.graph
    const sinkName = graph.nameFor(`${base}-repartition-sink`, '', operator)
    graph.addNode({ kind: 'sink', name: sinkName, parents: [this.node], topic, key: keySerde as Serde<unknown>, value: valueSerde as Serde<unknown> })
    const sourceName = graph.nameFor(`${base}-repartition-source`, '', operator)
    graph.addNode({
      kind: 'source',
      name: sourceName,
      parents: [],
      topics: [topic],
      key: keySerde as Serde<unknown>,
      value: valueSerde as Serde<unknown>,
      timestamp: TimestampExtractors.recordTime(),
      table: false,
    })
    if (partitions !== undefined) this.ctx.repartitionPartitions.set(topic.name, partitions)
    return this.next(sourceName, keySerde, valueSerde, false)
  }

  /** Writes to a topic, or to the topic a function picks per record. */
  to(topic: string | TopicNameExtractor<K, V>, options: SinkOptions<K, V> = {}): void {
    const name = this.name(options, 'KSTREAM-SINK', 'to()')
    const operator = `to('${typeof topic === 'string' ? topic : name}')`
    if (typeof topic === 'string' && topic.length === 0) throw new Error(`${operator}: the topic name is empty`)
    const key = requireSerde(options.key ?? this.keySerde, operator, 'key', 'an upstream map/selectKey changed the key type')
    const value = requireSerde(options.value ?? this.valueSerde, operator, 'value', 'an upstream map/mapValues changed the value type')
    this.ctx.graph.addNode({
      kind: 'sink',
      name,
      parents: [this.node],
      topic: typeof topic === 'string' ? { name: topic, internal: false } : (topic as TopicNameExtractor<unknown, unknown>),
      key: key as Serde<unknown>,
      value: value as Serde<unknown>,
      ...(options.partitioner ? { partitioner: options.partitioner as StreamPartitioner<unknown, unknown> } : {}),
    })
  }

  /**
   * Runs a custom processor. Stores it uses are prefetched by the source key, so when the key changed
   * upstream the stream is repartitioned first (which needs known serdes).
   */
  process<KO = never, VO = never>(supplier: ProcessorSupplier<K, V, KO, VO>, options: ProcessOptions = {}): KStream<KO, VO> {
    const name = this.name(options, 'KSTREAM-PROCESSOR', 'process()')
    const storeNames: string[] = []
    let prefetched = false
    for (const store of options.stores ?? []) {
      if (typeof store === 'string') {
        storeNames.push(store)
        prefetched ||= this.ctx.graph.stores.get(store)?.prefetch === 'source-key'
      } else {
        this.ctx.graph.addStore(store, `process('${name}')`)
        storeNames.push(store.name)
        prefetched ||= store.prefetch === 'source-key'
      }
    }
    const input = prefetched && this.keyChanged === true ? this.throughRepartitionTopic(`${name}`, `process('${name}')`) : this
    this.ctx.addProcessor(name, [input.node], supplier, storeNames)
    return this.next<KO, VO>(name, undefined, undefined, true)
  }

  groupByKey(options: GroupedOptions<K, V> = {}): KGroupedStream<K, V> {
    return new KGroupedStream(this, options.key ?? this.keySerde, options.value ?? this.valueSerde, options.name)
  }

  /** Groups by a new key; the aggregation reads the records through a repartition topic. */
  groupBy<K2>(selector: KeyValueMapper<K, V, K2>, options: GroupedOptions<K2, V> & { key: Serde<K2> }): KGroupedStream<K2, V> {
    const selected = this.selectKey(selector, options.name === undefined ? {} : { name: `${options.name}-key-select` })
    return new KGroupedStream(selected, options.key, options.value ?? this.valueSerde, options.name)
  }

  /**
   * Stream-stream: each record with every record of the other stream with its key within the join
   * window, and, once its window has closed, each record that found none (`otherValue` undefined).
   * Stream-table: each record with the table's current value for its key (`undefined` when absent).
   */
  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO | undefined, key: K) => VR, windows: JoinWindows, options?: StreamJoinedOptions<K, V, VO>): KStream<K, VR>
  leftJoin<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT | undefined, key: K) => VR, named?: Named): KStream<K, VR>
  /**
   * Stream-global table: each record with the global table's current row for `keySelector(key, value)`
   * (`undefined` when absent or when the selector returns null). No repartitioning: every instance
   * holds the whole table.
   */
  leftJoin<GK, GV, VR>(globalTable: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK | null, joiner: (value: V, globalValue: GV | undefined, key: K) => VR, named?: Named): KStream<K, VR>
  leftJoin<VO, VR>(
    other: KStream<K, VO> | KTable<K, VO> | GlobalKTable<unknown, VO>,
    joiner: ((value: V, otherValue: VO | undefined, key: K) => VR) | ((key: K, value: V) => unknown),
    third?: JoinWindows | Named | ((value: V, otherValue: VO | undefined, key: K) => VR),
    options: StreamJoinedOptions<K, V, VO> | Named = {},
  ): KStream<K, VR> {
    if (other instanceof GlobalKTable) return this.joinGlobalTable(other, joiner as (key: K, value: V) => unknown, third as (value: V, g: VO | undefined, key: K) => VR, false, options, 'leftJoin()')
    const join = joiner as (value: V, otherValue: VO | undefined, key: K) => VR
    if (other instanceof KStream) return this.joinStream(other, (key, l, r) => join(l as V, r, key), third as JoinWindows, options as StreamJoinedOptions<K, V, VO>, 'leftJoin()', true, false)
    return this.joinTable(other, join, false, (third as Named | undefined) ?? {}, 'leftJoin()')
  }

  /** Like `leftJoin`, but only records with a partner (stream-stream) or a table row (stream-table). */
  join<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, windows: JoinWindows, options?: StreamJoinedOptions<K, V, VO>): KStream<K, VR>
  join<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT, key: K) => VR, named?: Named): KStream<K, VR>
  join<GK, GV, VR>(globalTable: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK | null, joiner: (value: V, globalValue: GV, key: K) => VR, named?: Named): KStream<K, VR>
  join<VO, VR>(
    other: KStream<K, VO> | KTable<K, VO> | GlobalKTable<unknown, VO>,
    joiner: ((value: V, otherValue: VO, key: K) => VR) | ((key: K, value: V) => unknown),
    third?: JoinWindows | Named | ((value: V, otherValue: VO, key: K) => VR),
    options: StreamJoinedOptions<K, V, VO> | Named = {},
  ): KStream<K, VR> {
    if (other instanceof GlobalKTable) return this.joinGlobalTable(other, joiner as (key: K, value: V) => unknown, third as (value: V, g: VO | undefined, key: K) => VR, true, options, 'join()')
    const join = joiner as (value: V, otherValue: VO, key: K) => VR
    if (other instanceof KStream) return this.joinStream(other, (key, l, r) => join(l as V, r as VO, key), third as JoinWindows, options as StreamJoinedOptions<K, V, VO>, 'join()', false, false)
    return this.joinTable(other, join as (value: V, tableValue: VO | undefined, key: K) => VR, true, (third as Named | undefined) ?? {}, 'join()')
  }

  /** Stream-stream: like `leftJoin`, and the other stream's records without a partner too (`value` undefined). */
  outerJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: (value: V | undefined, otherValue: VO | undefined, key: K) => VR,
    windows: JoinWindows,
    options: StreamJoinedOptions<K, V, VO> = {},
  ): KStream<K, VR> {
    return this.joinStream(other, (key, l, r) => joiner(l, r, key), windows, options, 'outerJoin()', true, true)
  }

  private joinStream<VO, VR>(
    other: KStream<K, VO>,
    joiner: StreamJoiner<K, V, VO, VR>,
    windows: JoinWindows,
    options: StreamJoinedOptions<K, V, VO>,
    operator: string,
    leftOuter: boolean,
    rightOuter: boolean,
  ): KStream<K, VR> {
    if (other.ctx !== this.ctx) throw new Error(`${operator}: both streams must come from the same StreamsBuilder`)
    if (!(windows instanceof JoinWindows)) throw new Error(`${operator}: a stream-stream join needs JoinWindows (JoinWindows.ofTimeDifferenceAndGrace(...))`)
    const op = `${operator}${options.name === undefined ? '' : ` '${options.name}'`}`
    const why = 'the join stores hold them as bytes'
    const key = requireSerde(options.key ?? this.keySerde ?? other.keySerde, op, 'key', why, 'pass { key: Serdes.<type>() } in the join options')
    const value = requireSerde(options.value ?? this.valueSerde, op, 'value', why, 'pass { value: Serdes.<type>() } in the join options')
    const otherValue = requireSerde(options.otherValue ?? other.valueSerde, op, 'value', why, "pass { otherValue: Serdes.<type>() } (the other stream's values) in the join options")
    const graph = this.ctx.graph
    const base = options.name
    // Both sides must be partitioned by the join key: a changed (or windowed) key goes through a topic first.
    const left = this.keyChanged === false ? this : this.throughRepartitionTopic(`${base ?? graph.nameFor(undefined, 'KSTREAM-JOIN', op)}-left`, op, key, value)
    const right = other.keyChanged === false ? other : other.throughRepartitionTopic(`${base ?? graph.nameFor(undefined, 'KSTREAM-JOIN', op)}-right`, op, key, otherValue)
    const suffixed = (suffix: string): string | undefined => (base === undefined ? undefined : `${base}${suffix}`)
    const thisSuffix = rightOuter ? '-outer-this-join' : '-this-join'
    const otherSuffix = leftOuter ? '-outer-other-join' : '-other-join'
    const thisWindowed = graph.nameFor(suffixed('-this-windowed'), 'KSTREAM-WINDOWED', op)
    const otherWindowed = graph.nameFor(suffixed('-other-windowed'), 'KSTREAM-WINDOWED', op)
    const thisPrefix = rightOuter ? 'KSTREAM-OUTERTHIS' : 'KSTREAM-JOINTHIS'
    const joinThis = graph.nameFor(suffixed(thisSuffix), thisPrefix, op)
    const joinOther = graph.nameFor(suffixed(otherSuffix), leftOuter ? 'KSTREAM-OUTEROTHER' : 'KSTREAM-JOINOTHER', op)
    const merge = graph.nameFor(suffixed('-merge'), 'KSTREAM-MERGE', op)
    const storeBase = options.store ?? base
    const thisStore = storeBase === undefined ? `${joinThis}-store` : `${storeBase}${thisSuffix}-store`
    const otherStore = storeBase === undefined ? `${joinOther}-store` : `${storeBase}${otherSuffix}-store`
    const sharedSuffix = rightOuter ? '-outer-shared-join' : '-left-shared-join'
    const bufferStore = !leftOuter ? undefined : storeBase === undefined ? `KSTREAM-OUTERSHARED${joinThis.slice(thisPrefix.length)}-store` : `${storeBase}${sharedSuffix}-store`
    const logged = options.logged ?? true
    // Records are kept for the window's size plus grace, as in Kafka Streams.
    const windowSizeMs = Math.max(windows.sizeMs, 1)
    const startsRead = startsReadByJoin(windows)
    graph.addStore(Stores.window(thisStore, key, valueListSerde(value), { windowSizeMs, retentionMs: windowSizeMs + windows.graceMs, logged, startsRead }), op)
    graph.addStore(Stores.window(otherStore, key, valueListSerde(otherValue), { windowSizeMs, retentionMs: windowSizeMs + windows.graceMs, logged, startsRead }), op)
    if (bufferStore !== undefined) {
      graph.addStore(Stores.keyValue(bufferStore, timestampedKeyAndJoinSideSerde(key), leftOrRightValuesSerde(value, otherValue), { logged, prefetch: 'none' }), op)
    }
    const buffer = bufferStore === undefined ? [] : [bufferStore]
    const streamJoiner = joiner as StreamJoiner<K, unknown, unknown, VR>
    this.ctx.addProcessor(thisWindowed, [left.node], () => new JoinWindowProcessor<K, V>(thisStore), [thisStore])
    this.ctx.addProcessor(otherWindowed, [right.node], () => new JoinWindowProcessor<K, VO>(otherStore), [otherStore])
    this.ctx.addProcessor(joinThis, [thisWindowed], () => new StreamStreamJoinProcessor<K, V, VR>({ leftSide: true, outer: leftOuter, otherStore, bufferStore }, windows, streamJoiner, key), [otherStore, ...buffer])
    this.ctx.addProcessor(joinOther, [otherWindowed], () => new StreamStreamJoinProcessor<K, VO, VR>({ leftSide: false, outer: rightOuter, otherStore: thisStore, bufferStore }, windows, streamJoiner, key), [thisStore, ...buffer])
    this.ctx.addProcessor(merge, [joinThis, joinOther], () => new PassThroughProcessor<K, VR>())
    graph.coPartitionGroups.push([...new Set([...this.ctx.sourcesOf(left.node), ...this.ctx.sourcesOf(right.node)])])
    return this.next<K, VR>(merge, key, undefined, false)
  }

  private joinGlobalTable<GK, GV, VR>(
    table: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => GK | null | undefined,
    joiner: (value: V, globalValue: GV | undefined, key: K) => VR,
    inner: boolean,
    named: Named,
    operator: string,
  ): KStream<K, VR> {
    if (table.owner !== this.ctx.graph) throw new Error(`${operator}: the global table comes from another StreamsBuilder; build both from one`)
    if (typeof keySelector !== 'function' || typeof joiner !== 'function') {
      throw new Error(`${operator} with a global table takes (globalTable, (key, value) => tableKey, (value, tableValue, key) => result)`)
    }
    const name = this.name(named, inner ? 'KSTREAM-JOIN' : 'KSTREAM-LEFTJOIN', operator)
    // The store is not listed: global stores are readable by every processor, and listing it would
    // make the task open (and own) a copy of it. Kafka Streams' describe() shows `stores: []` too.
    this.ctx.addProcessor(name, [this.node], () => new StreamGlobalTableJoinProcessor<K, V, GK, GV, VR>(table.storeName, keySelector, joiner, inner))
    return this.next<K, VR>(name, this.keySerde, undefined, this.keyChanged)
  }

  private joinTable<VT, VR>(
    table: KTable<K, VT>,
    joiner: (value: V, tableValue: VT | undefined, key: K) => VR,
    inner: boolean,
    named: Named,
    operator: string,
  ): KStream<K, VR> {
    const name = this.name(named, 'KSTREAM-JOIN', operator)
    const store = table.storeName
    if (store === undefined) {
      throw new Error(`${operator} '${name}': the table is not materialized; join with a table from builder.table() or an aggregation`)
    }
    // The stream's key type is the table's, so the table's key serde can write the repartition topic.
    const input = this.keyChanged ? this.throughRepartitionTopic(name, `${operator} '${name}'`, this.keySerde ?? table.keySerde) : this
    this.ctx.addProcessor(name, [input.node], () => new StreamTableJoinProcessor<K, V, VT, VR>(store, joiner, inner), [store])
    this.ctx.graph.coPartitionGroups.push([...new Set([...this.ctx.sourcesOf(input.node), ...this.ctx.sourcesOf(table.node)])])
    return this.next<K, VR>(name, input.keySerde, undefined, false)
  }
}

/** The branches of a `split()`; finish with `defaultBranch(name)` or `noDefaultBranch()`. */
export class BranchedKStream<K, V, Names extends string> {
  /** @internal */
  constructor(
    private readonly parent: KStream<K, V>,
    private readonly splitName: string,
    private readonly branches: { predicate: Predicate<K, V>; child: string }[],
    private readonly state: { defaultChild: string | undefined },
    private readonly streams: Record<string, KStream<K, V>>,
  ) {}

  branch<N extends string>(name: N, predicate: Predicate<K, V>): BranchedKStream<K, V, Names | N> {
    const child = this.addChild(name)
    this.branches.push({ predicate, child })
    return this as unknown as BranchedKStream<K, V, Names | N>
  }

  defaultBranch<N extends string>(name: N): Record<Names | N, KStream<K, V>> {
    this.state.defaultChild = this.addChild(name)
    return this.streams as Record<Names | N, KStream<K, V>>
  }

  noDefaultBranch(): Record<Names, KStream<K, V>> {
    return this.streams as Record<Names, KStream<K, V>>
  }

  private addChild(branch: string): string {
    if (branch in this.streams) throw new Error(`split('${this.splitName}'): branch '${branch}' is defined twice`)
    const ctx = this.parent.ctx
    const child = ctx.graph.nameFor(`${this.splitName}-${branch}`, 'KSTREAM-BRANCHCHILD', 'branch()')
    ctx.addProcessor(child, [this.splitName], () => new PassThroughProcessor<K, V>())
    this.streams[branch] = new KStream<K, V>(ctx, child, this.parent.keySerde, this.parent.valueSerde, this.parent.keyChanged)
    return child
  }
}
