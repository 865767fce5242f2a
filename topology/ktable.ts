import type { Serde } from '../schemas/serde.js'
import type { TimeWindow } from '../state/types.js'
import type { DslContext, Named } from './dsl-context.js'
import { KStream } from './kstream.js'
import { suppressedEntrySerde, SuppressProcessor } from './processors/suppress.js'
import { TableFilterProcessor, TableMapValuesProcessor, ToStreamProcessor } from './processors/table.js'
import { Stores } from './stores.js'
import type { Windowed } from '../state/types.js'

/** `suppress()` configuration: only `untilWindowCloses` (one final result per window). */
export interface Suppressed {
  readonly kind: 'until-window-closes'
  readonly name?: string
  readonly logged: boolean
}

export const Suppressed = {
  /** Holds each window's updates and emits only its final value, once, when the window closes. */
  untilWindowCloses(options: Named & { logged?: boolean } = {}): Suppressed {
    return { kind: 'until-window-closes', ...(options.name === undefined ? {} : { name: options.name }), logged: options.logged ?? true }
  },
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
    this.ctx.addProcessor(name, [this.node], () => new SuppressProcessor(storeName, keySerde, closeTime), [storeName])
    return new KTable(this.ctx, name, this.keySerde, this.valueSerde, undefined, closeTime)
  }
}
