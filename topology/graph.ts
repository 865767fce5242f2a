/**
 * The logical graph the DSL (or a user) builds: sources, processors and sinks connected by parent
 * links, plus the stores processors use. `Topology` cuts it into sub-topologies.
 */
import type { Serde } from '../schemas/serde.js'
import type { ProcessorSupplier, StreamRecord } from './processor.js'
import type { EventTimeBounds } from './event-time.js'
import type { GlobalStoreDef } from './global-ktable.js'
import type { AnyStoreDefinition } from './stores.js'
import type { TimestampExtractor } from './time.js'

/** A topic; `internal` ones are named `<applicationId>-<name>` at run time. */
export interface TopicRef {
  readonly name: string
  readonly internal: boolean
}

export type TopicNameExtractor<K, V> = (key: K, value: V, record: StreamRecord<K, V>) => string

/** Chooses the partition of an output record; `undefined` leaves it to the producer's partitioner. */
export type StreamPartitioner<K, V> = (key: K, value: V, partitionCount: number) => number | undefined

interface NodeBase {
  readonly name: string
  /** Upstream nodes; creation order (Map order) fixes sub-topology numbering. */
  readonly parents: readonly string[]
}

export interface SourceNodeDef extends NodeBase {
  readonly kind: 'source'
  readonly topics: readonly TopicRef[]
  readonly key: Serde<unknown>
  readonly value: Serde<unknown>
  readonly timestamp: TimestampExtractor<unknown, unknown>
  /** Records whose event time strays further from the wall clock are bad records (stage `timestamp`). */
  readonly eventTimeBounds?: EventTimeBounds
  /** Table sources read null values as deletes instead of bad records. */
  readonly table: boolean
}

export interface ProcessorNodeDef extends NodeBase {
  readonly kind: 'processor'
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>
  readonly stores: readonly string[]
}

export interface SinkNodeDef extends NodeBase {
  readonly kind: 'sink'
  readonly topic: TopicRef | TopicNameExtractor<unknown, unknown>
  readonly key: Serde<unknown>
  readonly value: Serde<unknown>
  readonly partitioner?: StreamPartitioner<unknown, unknown>
}

export type NodeDef = SourceNodeDef | ProcessorNodeDef | SinkNodeDef

export function isTopicRef(topic: SinkNodeDef['topic']): topic is TopicRef {
  return typeof topic !== 'function'
}

/** Mutable graph under construction; owned by one `StreamsBuilder`. */
export class TopologyGraph {
  readonly nodes = new Map<string, NodeDef>()
  readonly stores = new Map<string, AnyStoreDefinition>()
  /** Global tables by store name: read by the runtime's global consumer, outside every task. */
  readonly globalStores = new Map<string, GlobalStoreDef>()
  /**
   * Internal topics partitioned like the sub-topology that reads them (not the one that writes them):
   * the foreign-key join's registration topic (like the right table) and response topic (like the left).
   */
  readonly readerPartitionedTopics = new Set<string>()
  /** Groups of source-node names whose topics must be co-partitioned (joins). */
  readonly coPartitionGroups: string[][] = []
  /** Who claimed each name, for "used twice" messages. */
  private readonly owners = new Map<string, string>()
  private index = 0

  /** Kafka Streams-like generated name, e.g. `KSTREAM-FILTER-0000000003`. */
  generateName(prefix: string): string {
    const name = `${prefix}-${String(this.index++).padStart(10, '0')}`
    return name
  }

  claimName(name: string, owner: string): void {
    if (!name || /[^A-Za-z0-9._-]/.test(name)) {
      throw new Error(`${owner}: name '${name}' is invalid; use letters, digits, '.', '_' and '-' (it becomes part of topic names)`)
    }
    const previous = this.owners.get(name)
    if (previous !== undefined) {
      throw new Error(`${owner}: the name '${name}' is already used by ${previous}; give each operator and store a unique name`)
    }
    this.owners.set(name, owner)
  }

  /** A user-given name (claimed) or a generated one. */
  nameFor(given: string | undefined, prefix: string, owner: string): string {
    const name = given ?? this.generateName(prefix)
    this.claimName(name, given === undefined ? `${owner} (${name})` : `${owner} '${name}'`)
    return name
  }

  addNode(node: NodeDef): void {
    for (const parent of node.parents) {
      if (!this.nodes.has(parent)) throw new Error(`node '${node.name}': unknown parent '${parent}'`)
    }
    this.nodes.set(node.name, node)
  }

  addStore(store: AnyStoreDefinition, owner: string): void {
    const existing = this.stores.get(store.name)
    if (existing === store) return
    this.claimName(store.name, `${owner}: store`)
    this.stores.set(store.name, store)
  }
}
