import type { Serde } from '../schemas/serde.js'
import type { TimeWindow } from '../state/types.js'
import { type DslContext, type Named, requireSerde } from './dsl-context.js'
import { KStream } from './kstream.js'
import { suppressedEntrySerde, SuppressProcessor } from './processors/suppress.js'
import { PassThroughProcessor } from './processors/stateless.js'
import { TableFilterProcessor, TableMapValuesProcessor, ToStreamProcessor } from './processors/table.js'
import { type TableJoiner, type TableJoinSide, TableTableJoinProcessor } from './processors/table-table-join.js'
import { Stores } from './stores.js'
import { Serdes } from '../schemas/index.js'
import { TimestampExtractors } from './time.js'
import { foreignKeyStateSerde, responseSerde, subscribersSerde, subscriptionSerde } from './processors/foreign-key-join-serdes.js'
import { ResponseResolver, RightUpdateSender, SubscriptionReceiver, SubscriptionSender } from './processors/foreign-key-join.js'
import type { Windowed } from '../state/types.js'

/** `suppress()` configuration: only `untilWindowCloses` (one final result per window). */
export interface Suppressed {
  readonly kind: 'until-window-closes'
  readonly name?: string
  readonly logged: boolean
  readonly buffer: BufferConfig
}

export const Suppressed = {
  /**
   * Holds each window's updates and emits only its final value, once, when the window closes.
   * `buffer` bounds what it holds (default `BufferConfig.unbounded()`).
   */
  untilWindowCloses(options: Named & { logged?: boolean; buffer?: BufferConfig } = {}): Suppressed {
    return {
      kind: 'until-window-closes',
      ...(options.name === undefined ? {} : { name: options.name }),
      logged: options.logged ?? true,
      buffer: options.buffer ?? BufferConfig.unbounded(),
    }
  },
}

function checkBound(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`BufferConfig.${what}: expected a positive integer, got ${n}`)
  return n
}

/**
 * Kafka Streams' `Suppressed.BufferConfig`: at most `maxRecords` windows and `maxBytes` bytes (key,
 * value and timestamp as stored) in the buffer; when full, `shutDownWhenFull()` (the default here:
 * results stay final, the task stops with an error naming the bound) or `emitEarlyWhenFull()` (the
 * windows closing soonest are emitted early, so a window may then be emitted more than once).
 */
export class BufferConfig {
  private constructor(
    readonly maxRecords: number,
    readonly maxBytes: number,
    readonly whenFull: 'shut-down' | 'emit-early',
  ) {}

  static unbounded(): BufferConfig {
    return new BufferConfig(Infinity, Infinity, 'shut-down')
  }

  static maxRecords(n: number): BufferConfig {
    return new BufferConfig(checkBound('maxRecords', n), Infinity, 'shut-down')
  }

  static maxBytes(n: number): BufferConfig {
    return new BufferConfig(Infinity, checkBound('maxBytes', n), 'shut-down')
  }

  withMaxRecords(n: number): BufferConfig {
    return new BufferConfig(checkBound('withMaxRecords', n), this.maxBytes, this.whenFull)
  }

  withMaxBytes(n: number): BufferConfig {
    return new BufferConfig(this.maxRecords, checkBound('withMaxBytes', n), this.whenFull)
  }

  shutDownWhenFull(): BufferConfig {
    return new BufferConfig(this.maxRecords, this.maxBytes, 'shut-down')
  }

  emitEarlyWhenFull(): BufferConfig {
    if (this.maxRecords === Infinity && this.maxBytes === Infinity) throw new Error('BufferConfig.emitEarlyWhenFull: an unbounded buffer is never full; set maxRecords or maxBytes first')
    return new BufferConfig(this.maxRecords, this.maxBytes, 'emit-early')
  }

  /** @internal */
  get bounded(): boolean {
    return this.maxRecords !== Infinity || this.maxBytes !== Infinity
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the other table of a join: its key type is the join's own (same key, or foreign key)
type AnyKeyTable<V> = KTable<any, V>

/**
 * A changelog view: the latest value per key. Internally deletes travel as `null` values; `toStream()`
 * drops them, so user code never sees a `null` it did not declare.
 */
export class KTable<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly ctx: DslContext,
    /** @internal */ readonly node: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal The store holding this table's rows, if materialized (joins read it). */
    readonly storeName: string | undefined,
    /** @internal For windowed tables: when a window closes. */
    readonly windowCloseTime: ((window: TimeWindow) => number) | undefined,
  ) {}

  filter(predicate: (key: K, value: V) => boolean, named: Named = {}): KTable<K, V> {
    const name = this.ctx.graph.nameFor(named.name, 'KTABLE-FILTER', 'table filter()')
    this.ctx.addProcessor(name, [this.node], () => new TableFilterProcessor(predicate, true))
    return new KTable(this.ctx, name, this.keySerde, this.valueSerde, undefined, this.windowCloseTime)
  }

  filterNot(predicate: (key: K, value: V) => boolean, named: Named = {}): KTable<K, V> {
    const name = this.ctx.graph.nameFor(named.name, 'KTABLE-FILTER', 'table filterNot()')
    this.ctx.addProcessor(name, [this.node], () => new TableFilterProcessor(predicate, false))
    return new KTable(this.ctx, name, this.keySerde, this.valueSerde, undefined, this.windowCloseTime)
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, options: Named & { value?: Serde<V2> } = {}): KTable<K, V2> {
    const name = this.ctx.graph.nameFor(options.name, 'KTABLE-MAPVALUES', 'table mapValues()')
    this.ctx.addProcessor(name, [this.node], () => new TableMapValuesProcessor(mapper))
    return new KTable<K, V2>(this.ctx, name, this.keySerde, options.value, undefined, this.windowCloseTime)
  }

  /** A row per key present in both tables; an update of either side updates the row (or deletes it). */
  join<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, named?: Named): KTable<K, VR>
  /**
   * Foreign-key join: a row per key of this table whose `foreignKey(value, key)` is a key of `other`
   * present there; either side's update updates the row, a changed foreign key moves it.
   */
  join<KO, VO, VR>(other: KTable<KO, VO>, foreignKey: (value: V, key: K) => KO | null, joiner: (value: V, otherValue: VO, key: K) => VR, named?: Named): KTable<K, VR>
  join<VO, VR>(
    other: AnyKeyTable<VO>,
    second: ((value: V, otherValue: VO, key: K) => VR) | ((value: V, key: K) => unknown),
    third?: Named | ((value: V, otherValue: VO, key: K) => VR),
    named: Named = {},
  ): KTable<K, VR> {
    if (typeof third === 'function') return this.joinForeignKey(other, second as (value: V, key: K) => unknown, third as (value: V, o: VO | undefined, key: K) => VR, true, named, 'table join()')
    return this.joinTable(other as KTable<K, VO>, second as TableJoiner<K, V, VO, VR>, ['inner', 'inner'], 'KTABLE-JOIN', third ?? {}, 'table join()')
  }

  /** A row per key of this table, with the other table's value or `undefined`. */
  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO | undefined, key: K) => VR, named?: Named): KTable<K, VR>
  /** Foreign-key left join: a row per key of this table, with the row of `other` at `foreignKey(value, key)` or `undefined`. */
  leftJoin<KO, VO, VR>(other: KTable<KO, VO>, foreignKey: (value: V, key: K) => KO | null, joiner: (value: V, otherValue: VO | undefined, key: K) => VR, named?: Named): KTable<K, VR>
  leftJoin<VO, VR>(
    other: AnyKeyTable<VO>,
    second: ((value: V, otherValue: VO | undefined, key: K) => VR) | ((value: V, key: K) => unknown),
    third?: Named | ((value: V, otherValue: VO | undefined, key: K) => VR),
    named: Named = {},
  ): KTable<K, VR> {
    if (typeof third === 'function') return this.joinForeignKey(other, second as (value: V, key: K) => unknown, third as (value: V, o: VO | undefined, key: K) => VR, false, named, 'table leftJoin()')
    return this.joinTable(other as KTable<K, VO>, second as TableJoiner<K, V, VO, VR>, ['left', 'right'], 'KTABLE-LEFT', third ?? {}, 'table leftJoin()')
  }

  /** A row per key of either table, `undefined` for the side without one. */
  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V | undefined, otherValue: VO | undefined, key: K) => VR, named: Named = {}): KTable<K, VR> {
    return this.joinTable(other, joiner, ['outer', 'outer'], 'KTABLE-OUTER', named, 'table outerJoin()')
  }

  private joinTable<VO, VR>(other: KTable<K, VO>, joiner: TableJoiner<K, V, VO, VR>, sides: [TableJoinSide, TableJoinSide], prefix: string, named: Named, operator: string): KTable<K, VR> {
    if (other.ctx !== this.ctx) throw new Error(`${operator}: both tables must come from the same StreamsBuilder`)
    const graph = this.ctx.graph
    const base = named.name
    const thisName = graph.nameFor(base === undefined ? undefined : `${base}-this`, `${prefix}THIS`, operator)
    const otherName = graph.nameFor(base === undefined ? undefined : `${base}-other`, `${prefix}OTHER`, operator)
    const mergeName = graph.nameFor(base, 'KTABLE-MERGE', operator)
    const op = `${operator}${base === undefined ? '' : ` '${base}'`}`
    const [thisStore, otherStore] = [this.storeName, other.storeName]
    if (thisStore === undefined || otherStore === undefined) {
      throw new Error(`${op}: the ${thisStore === undefined ? 'left' : 'right'} table is not materialized; join tables from builder.table() or aggregations (a filter or mapValues result has no store)`)
    }
    if (this.windowCloseTime !== undefined || other.windowCloseTime !== undefined) throw new Error(`${op}: windowed tables cannot be joined`)
    const erased = joiner as TableJoiner<K, unknown, unknown, VR>
    this.ctx.addProcessor(thisName, [this.node], () => new TableTableJoinProcessor<K, VR>(otherStore, sides[0], true, erased), [otherStore])
    this.ctx.addProcessor(otherName, [other.node], () => new TableTableJoinProcessor<K, VR>(thisStore, sides[1], false, erased), [thisStore])
    this.ctx.addProcessor(mergeName, [thisName, otherName], () => new PassThroughProcessor<K, VR | null>())
    graph.coPartitionGroups.push([...new Set([...this.ctx.sourcesOf(this.node), ...this.ctx.sourcesOf(other.node)])])
    return new KTable<K, VR>(this.ctx, mergeName, this.keySerde ?? other.keySerde, undefined, undefined, undefined)
  }

  /** See `join` with a foreign key, and "Foreign-key joins" in topology/README.md. */
  private joinForeignKey<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKey: (value: V, key: K) => KO | null | undefined,
    joiner: (value: V, otherValue: VO | undefined, key: K) => VR,
    inner: boolean,
    named: Named,
    operator: string,
  ): KTable<K, VR> {
    if (other.ctx !== this.ctx) throw new Error(`${operator}: both tables must come from the same StreamsBuilder`)
    const graph = this.ctx.graph
    const base = graph.nameFor(named.name, 'KTABLE-FK-JOIN', operator)
    const op = `${operator} '${base}'`
    const [leftStore, rightStore] = [this.storeName, other.storeName]
    if (leftStore === undefined || rightStore === undefined) {
      throw new Error(`${op}: the ${leftStore === undefined ? 'left' : 'right'} table is not materialized; join tables from builder.table() or aggregations (a filter or mapValues result has no store)`)
    }
    if (this.windowCloseTime !== undefined || other.windowCloseTime !== undefined) throw new Error(`${op}: windowed tables cannot be joined`)
    const why = 'the join sends them through internal topics'
    const leftKey = requireSerde(this.keySerde, op, 'key', why, 'join a table whose key serde is known (builder.table or an aggregation)')
    const rightKey = requireSerde(other.keySerde, op, 'key', why, 'join a table whose key serde is known (builder.table or an aggregation)')
    const rightValue = requireSerde(other.valueSerde, op, 'value', why, 'join a table whose value serde is known, or pass { value } to its mapValues()')
    const name = (suffix: string): string => graph.nameFor(`${base}-${suffix}`, '', op)
    const stateStore = `${base}-foreign-key-store`
    const subscriberStore = `${base}-subscription-store`
    graph.addStore(Stores.keyValue(stateStore, leftKey, foreignKeyStateSerde), op)
    graph.addStore(Stores.keyValue(subscriberStore, rightKey, subscribersSerde), op)
    const registration = { name: `${base}-subscription-registration-topic`, internal: true }
    const response = { name: `${base}-subscription-response-topic`, internal: true }
    graph.readerPartitionedTopics.add(registration.name).add(response.name)
    const erase = <T>(serde: Serde<T>): Serde<unknown> => serde as Serde<unknown>
    const source = (nodeName: string, topic: typeof registration, key: Serde<unknown>, value: Serde<unknown>): void =>
      graph.addNode({ kind: 'source', name: nodeName, parents: [], topics: [topic], key, value, timestamp: TimestampExtractors.recordTime(), table: false })

    // Left side: subscriptions out, keyed by the foreign key.
    const sender = name('subscription-sender')
    const registrationSink = name('subscription-registration-sink')
    const children = { registration: registrationSink, result: base }
    this.ctx.addProcessor(sender, [this.node], () => new SubscriptionSender<K, V, KO, VO, VR>(stateStore, leftKey, rightKey, foreignKey, joiner, inner, children), [stateStore])
    graph.addNode({ kind: 'sink', name: registrationSink, parents: [sender], topic: registration, key: erase(rightKey), value: erase(subscriptionSerde) })
    // Right side: registrations and right updates answered, keyed by the left key's bytes.
    const registrationSource = name('subscription-registration-source')
    source(registrationSource, registration, erase(rightKey), erase(subscriptionSerde))
    const receiver = name('subscription-receiver')
    this.ctx.addProcessor(receiver, [registrationSource], () => new SubscriptionReceiver<KO, VO>(subscriberStore, rightStore, rightValue), [subscriberStore, rightStore])
    const rightSender = name('right-update-sender')
    this.ctx.addProcessor(rightSender, [other.node], () => new RightUpdateSender<KO, VO>(subscriberStore, rightValue), [subscriberStore])
    graph.addNode({ kind: 'sink', name: name('subscription-response-sink'), parents: [receiver, rightSender], topic: response, key: erase(Serdes.bytes()), value: erase(responseSerde) })
    // Left side again: responses resolved against the left row's latest subscription.
    const responseSource = name('subscription-response-source')
    source(responseSource, response, erase(leftKey), erase(responseSerde))
    const resolver = name('response-resolver')
    this.ctx.addProcessor(resolver, [responseSource], () => new ResponseResolver<K, V, VO, VR>(stateStore, leftStore, rightValue, joiner, inner), [stateStore, leftStore])
    this.ctx.addProcessor(base, [sender, resolver], () => new PassThroughProcessor<K, VR | null>())
    graph.coPartitionGroups.push([...new Set([...this.ctx.sourcesOf(other.node), registrationSource])])
    graph.coPartitionGroups.push([...new Set([...this.ctx.sourcesOf(this.node), responseSource])])
    return new KTable<K, VR>(this.ctx, base, leftKey, undefined, undefined, undefined)
  }

  /** The table's updates as a stream (deletes are not forwarded). */
  toStream(named: Named = {}): KStream<K, V> {
    const name = this.ctx.graph.nameFor(named.name, 'KTABLE-TOSTREAM', 'toStream()')
    this.ctx.addProcessor(name, [this.node], () => new ToStreamProcessor<K, V>())
    // A windowed table's key wraps the source key: aggregations downstream repartition, processors
    // with stores keyed by the source key need not (see KStream.keyChanged).
    return new KStream<K, V>(this.ctx, name, this.keySerde, this.valueSerde, this.windowCloseTime !== undefined ? 'windowed' : false)
  }

  /**
   * Emits each window's final value once, when stream time passes the window's end plus grace
   * (plus the gap for sessions). Only for windowed tables.
   */
  suppress(suppressed: Suppressed): KTable<K, V> {
    const name = this.ctx.graph.nameFor(suppressed.name, 'KTABLE-SUPPRESS', 'suppress()')
    const operator = `suppress('${name}')`
    const closeTime = this.windowCloseTime
    if (closeTime === undefined) {
      throw new Error(`${operator}: untilWindowCloses needs a windowed table; call windowedBy(...) before the aggregation`)
    }
    if (this.keySerde === undefined || this.valueSerde === undefined) {
      throw new Error(`${operator}: the table's ${this.keySerde ? 'value' : 'key'} serde is unknown; pass { value: Serdes.<type>() } to the mapValues() before it`)
    }
    const storeName = `${name}-store`
    const keySerde = this.keySerde as unknown as Serde<Windowed<unknown>>
    this.ctx.graph.addStore(
      Stores.keyValue(storeName, keySerde, suppressedEntrySerde(this.valueSerde), { logged: suppressed.logged, prefetch: 'none' }),
      operator,
    )
    const buffer = suppressed.buffer
    const valueSerde = this.valueSerde
    const bounds = buffer.bounded ? { name, maxRecords: buffer.maxRecords, maxBytes: buffer.maxBytes, whenFull: buffer.whenFull } : undefined
    this.ctx.addProcessor(name, [this.node], () => new SuppressProcessor(storeName, keySerde, closeTime, valueSerde, bounds), [storeName])
    return new KTable(this.ctx, name, this.keySerde, this.valueSerde, undefined, closeTime)
  }
}
