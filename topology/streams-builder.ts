import { Serdes } from '../schemas/index.js'
import type { Serde } from '../schemas/serde.js'
import { DslContext } from './dsl-context.js'
import { TopologyGraph } from './graph.js'
import { KStream } from './kstream.js'
import { KTable } from './ktable.js'
import { GlobalKTable, type GlobalStoreDef } from './global-ktable.js'
import { type EventTimeBounds, validateEventTimeBounds } from './event-time.js'
import { DeduplicateProcessor, type DeduplicateOptions, deduplicateStore } from './processors/deduplicate.js'
import { TableSourceProcessor } from './processors/table.js'
import { type AnyStoreDefinition, Stores } from './stores.js'
import { type TimestampExtractor, TimestampExtractors } from './time.js'
import { Topology } from './topology.js'

export interface SourceOptions<K, V> {
  key: Serde<K>
  value: Serde<V>
  /** Event time; default: the Kafka record timestamp. */
  timestamp?: TimestampExtractor<K, V>
  /**
   * Refuse records whose event time is further than this from the wall clock (bad records, stage
   * `timestamp`: dead-lettered with the reason): one skewed or hostile record cannot advance stream
   * time and close everyone's windows. Off by default, as replays of old data need it off.
   */
  eventTime?: EventTimeBounds
  name?: string
}

export interface StreamSourceOptions<K, V> extends SourceOptions<K, V> {
  /**
   * Drop records whose id was already seen within `horizonMs` of event time (a logged window store,
   * so restarts and rebalances keep the memory). Copies must reach the same partition, as retries
   * with the same record key do.
   */
  deduplicate?: DeduplicateOptions<K, V>
}

export interface TableSourceOptions<K, V> extends SourceOptions<K, V> {
  /** The store materializing the table (default `<name>-store`). */
  store?: string
}

export interface GlobalTableOptions<K, V> {
  key: Serde<K>
  value: Serde<V>
  /** The store holding the table (default `<name>-store`): its name for interactive queries. */
  store?: string
  name?: string
}

/** Builds a topology with the DSL: `stream()`/`table()`, operators, then `build()`. */
export class StreamsBuilder {
  private readonly graph = new TopologyGraph()
  private readonly ctx = new DslContext(this.graph)
  private readonly topicReaders = new Map<string, string>()
  private built = false

  stream<K, V>(topics: string | readonly string[], options: StreamSourceOptions<K, V>): KStream<K, V> {
    const list = typeof topics === 'string' ? [topics] : [...topics]
    requireSourceOptions(options, `stream(${list.map((t) => `'${t}'`).join(', ')})`, this.stream)
    const name = this.graph.nameFor(options.name, 'KSTREAM-SOURCE', `stream(${list.join(', ')})`)
    this.addSource(name, list, options, false)
    const dedup = options.deduplicate
    if (dedup === undefined) return new KStream<K, V>(this.ctx, name, options.key, options.value, false)
    if (typeof dedup.id !== 'function') throw new Error(`source '${name}': deduplicate.id must be a function (value, key) => id`)
    if (!(Number.isSafeInteger(dedup.horizonMs) && dedup.horizonMs > 0)) {
      throw new Error(`source '${name}': deduplicate.horizonMs must be a positive integer of ms (got ${String(dedup.horizonMs)}); e.g. 86_400_000 for a day`)
    }
    const processor = this.graph.nameFor(dedup.name ?? `${name}-deduplicate`, '', `stream(${list.join(', ')})`)
    const store = deduplicateStore(`${processor}-store`, dedup, Serdes.string())
    this.graph.addStore(store, `stream(${list.join(', ')}) deduplicate`)
    this.ctx.addProcessor(processor, [name], () => new DeduplicateProcessor<K, V>(processor, store, dedup), [store.name])
    return new KStream<K, V>(this.ctx, processor, options.key, options.value, false)
  }

  /**
   * A table from a (compacted) topic: the latest value per key, materialized in a store that
   * restores from the topic itself. Null values delete.
   */
  table<K, V>(topic: string, options: TableSourceOptions<K, V>): KTable<K, V> {
    requireSourceOptions(options, `table('${topic}')`, this.table)
    const name = this.graph.nameFor(options.name, 'KTABLE-SOURCE', `table(${topic})`)
    this.addSource(name, [topic], options, true)
    const store = options.store ?? `${name}-store`
    this.graph.addStore({ ...Stores.keyValue(store, options.key, options.value), restoreFromSourceTopic: topic }, `table(${topic})`)
    const materialize = this.graph.nameFor(`${name}-materialize`, '', `table(${topic})`)
    this.ctx.addProcessor(materialize, [name], () => new TableSourceProcessor<K, V>(store, options.key), [store])
    return new KTable<K, V>(this.ctx, materialize, options.key, options.value, store, undefined)
  }

  /**
   * A table every instance holds in full (Kafka Streams' `globalTable`): the runtime restores it from
   * all partitions of `topic` before any task processes, then keeps it current with a consumer of
   * its own. Join streams with it by a key they compute: `stream.join(globalTable, keySelector, joiner)`.
   * Null values delete. The whole table is held in memory (see topology/README.md, "Global tables").
   */
  globalTable<K, V>(topic: string, options: GlobalTableOptions<K, V>): GlobalKTable<K, V> {
    requireSourceOptions(options, `globalTable('${topic}')`, this.globalTable)
    if (!topic) throw new Error('globalTable(): the topic name is empty')
    const owner = `globalTable(${topic})`
    const name = this.graph.nameFor(options.name, 'KTABLE-SOURCE', owner)
    const other = this.topicReaders.get(topic)
    if (other) throw new Error(`topic '${topic}' is read by both '${other}' and '${name}'; read it once and reuse the stream`)
    this.topicReaders.set(topic, name)
    if (!options.key) throw new Error(`${owner}: the key serde is missing; pass { key: Serdes.<type>() }`)
    if (!options.value) throw new Error(`${owner}: the value serde is missing; pass { value: Serdes.<type>() }`)
    const processor = this.graph.nameFor(`${name}-materialize`, '', owner)
    const store = options.store ?? `${name}-store`
    this.graph.claimName(store, `${owner}: store`)
    // Not logged: the topic is the table's changelog, as for builder.table().
    const definition = { ...Stores.keyValue(store, options.key, options.value, { logged: false, prefetch: 'none' }), restoreFromSourceTopic: topic }
    this.graph.globalStores.set(store, { source: name, processor, topic, store: definition as GlobalStoreDef['store'] })
    return new GlobalKTable<K, V>(this.graph, store, options.key, options.value)
  }

  /** Adds a store for custom processors (`process(supplier, { stores: ['name'] })`). */
  addStateStore(store: AnyStoreDefinition): this {
    this.graph.addStore(store, 'addStateStore()')
    return this
  }

  build(): Topology {
    if (this.built) throw new Error('build() was already called on this StreamsBuilder; create a new builder per topology')
    this.built = true
    return new Topology(this.graph, this.ctx.repartitionPartitions)
  }

  private addSource<K, V>(name: string, topics: string[], options: SourceOptions<K, V>, table: boolean): void {
    if (topics.length === 0) throw new Error(`source '${name}': give at least one topic`)
    for (const topic of topics) {
      if (!topic) throw new Error(`source '${name}': a topic name is empty`)
      const other = this.topicReaders.get(topic)
      if (other) throw new Error(`topic '${topic}' is read by both '${other}' and '${name}'; read it once and reuse the stream`)
      this.topicReaders.set(topic, name)
    }
    if (!options.key) throw new Error(`source '${name}' (${topics.join(', ')}): the key serde is missing; pass { key: Serdes.<type>() }`)
    if (!options.value) throw new Error(`source '${name}' (${topics.join(', ')}): the value serde is missing; pass { value: Serdes.<type>() }`)
    this.graph.addNode({
      kind: 'source',
      name,
      parents: [],
      topics: topics.map((t) => ({ name: t, internal: false })),
      key: options.key as Serde<unknown>,
      value: options.value as Serde<unknown>,
      timestamp: (options.timestamp ?? TimestampExtractors.recordTime()) as TimestampExtractor<unknown, unknown>,
      ...(options.eventTime === undefined ? {} : { eventTimeBounds: validateEventTimeBounds(options.eventTime, `source '${name}'`) }),
      table,
    })
  }
}

/**
 * tsx runs TypeScript without type-checking, so a source without its options reaches here; name the
 * call, the fix, and the caller's line rather than failing on `options.name`.
 */
function requireSourceOptions(options: unknown, call: string, method: (...args: never[]) => unknown): void {
  if (typeof options === 'object' && options !== null) return
  const site: { stack?: string } = {}
  Error.captureStackTrace(site, method)
  const caller = callerLocation(site.stack?.split('\n')[1])
  throw new Error(
    `${call} needs its serdes: ${call.slice(0, -1)}, { key: Serdes.string(), value: Serdes.json() })${caller ? ` (at ${caller})` : ''}`,
  )
}

/** `file:line:column` of a stack frame; only the file for tsx's CommonJS wrapper, whose lines are not the file's. */
function callerLocation(frame: string | undefined): string | undefined {
  if (frame === undefined) return undefined
  const wrapped = /filePath=(.+?)(?:%3F|:\d)/.exec(frame)
  if (wrapped) return decodeURIComponent(wrapped[1]!)
  const location = /((?:file:\/\/)?\/[^()\s]+:\d+:\d+)\)?$/.exec(frame)
  return (location?.[1] ?? frame.trim()).replace(/^file:\/\//, '')
}
