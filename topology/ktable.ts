import type { Serde } from '../schemas/serde.js'
import type { TimeWindow } from '../state/types.js'
import type { DslContext, Named } from './dsl-context.js'
import { KStream } from './kstream.js'
import { suppressedEntrySerde, SuppressProcessor } from './processors/suppress.js'
import { PassThroughProcessor } from './processors/stateless.js'
import { TableFilterProcessor, TableMapValuesProcessor, ToStreamProcessor } from './processors/table.js'
import { type TableJoiner, type TableJoinSide, TableTableJoinProcessor } from './processors/table-table-join.js'
import { Stores } from './stores.js'
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
  join<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, named: Named = {}): KTable<K, VR> {
    return this.joinTable(other, joiner as TableJoiner<K, V, VO, VR>, ['inner', 'inner'], 'KTABLE-JOIN', named, 'table join()')
  }

  /** A row per key of this table, with the other table's value or `undefined`. */
  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO | undefined, key: K) => VR, named: Named = {}): KTable<K, VR> {
    return this.joinTable(other, joiner as TableJoiner<K, V, VO, VR>, ['left', 'right'], 'KTABLE-LEFT', named, 'table leftJoin()')
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
