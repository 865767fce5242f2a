/**
 * Kafka Streams' `GlobalKTable`: a table every instance holds in full, read from all partitions of
 * its topic by the runtime's global consumer rather than by tasks. Streams join it by a key their
 * records compute (`KStream.join(globalTable, keySelector, joiner)`), with no repartitioning and no
 * co-partitioning, since every task sees every row.
 */
import type { Serde } from '../schemas/serde.js'
import type { KeyValueStoreDefinition } from './stores.js'

/** A global table as the graph records it: no node of any task sub-topology. */
export interface GlobalStoreDef {
  /** Source and materializing processor names, for `describe()`. */
  readonly source: string
  readonly processor: string
  readonly topic: string
  readonly store: KeyValueStoreDefinition<unknown, unknown>
}

export class GlobalKTable<K, V> {
  /** @internal */
  constructor(
    /** @internal The builder's graph, to refuse a join across builders. */ readonly owner: object,
    /** The store holding the table: queryable by this name through interactive queries. */ readonly storeName: string,
    /** @internal */ readonly keySerde: Serde<K>,
    /** @internal */ readonly valueSerde: Serde<V>,
  ) {}
}
