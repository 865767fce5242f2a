/**
 * Where a store's keys live: the sub-topology whose tasks hold the store, and the task (partition)
 * of a key, partitioned exactly as the records that built the store were.
 */
import type { Serde } from '../../schemas/serde.js'
import type { StoreKind } from '../../topology/stores.js'
import type { TopologyPlan } from '../../topology/topology.js'
import { StoreNotQueryableError } from '../streams-runtime.js'
import { partitionOfKey } from './key-partition.js'
import type { StoreTarget } from './local-store-views.js'

export interface LocatedStore {
  readonly name: string
  readonly kind: StoreKind
  readonly subtopology: number
  /** The store's own key serde (what its records were keyed and partitioned with). */
  readonly keySerde: Serde<unknown>
}

export class StoreLocator {
  private readonly stores = new Map<string, LocatedStore>()
  /** Global tables' stores: on every instance, in no task. */
  private readonly globals: ReadonlySet<string>

  /** `tasksPerSubtopology`: known once the instance has read its source topics' partition counts (at start). */
  constructor(
    plan: TopologyPlan,
    private readonly tasksPerSubtopology: () => ReadonlyMap<number, number> | undefined,
  ) {
    for (const sub of plan.subtopologies) {
      for (const store of sub.stores) this.stores.set(store.name, { name: store.name, kind: store.kind, subtopology: sub.id, keySerde: store.definition.key })
    }
    this.globals = new Set(plan.globalStores.map((g) => g.name))
  }

  /** Whether `name` is a global table's store (every read is then local). */
  isGlobal(name: string): boolean {
    return this.globals.has(name)
  }

  /** The store, of the kind a view expects; `StoreNotQueryableError` naming the stores there are otherwise. */
  find(name: string, kind?: StoreKind): LocatedStore {
    const store = this.stores.get(name)
    if (!store) {
      if (this.globals.has(name)) throw new StoreNotQueryableError(`store '${name}' is a global table's store (key-value): use keyValueStore('${name}')`)
      const known = [...[...this.stores.values()].map((s) => `'${s.name}' (${s.kind})`), ...[...this.globals].map((g) => `'${g}' (global key-value)`)].join(', ') || 'none'
      throw new StoreNotQueryableError(`store '${name}' is not in this topology (its stores: ${known}); check the store name (the 'store' option of count/aggregate/reduce, or Stores.*)`)
    }
    if (kind !== undefined && store.kind !== kind) {
      const use = store.kind === 'window' ? 'windowStore' : store.kind === 'key-value' ? 'keyValueStore' : 'a session query (not supported yet)'
      throw new StoreNotQueryableError(`store '${name}' is a ${store.kind} store, not a ${kind} store: use ${use}('${name}')`)
    }
    return store
  }

  /** The partition (= task partition) of a serialized key of a store's sub-topology. */
  partitionOf(store: LocatedStore, key: Buffer): number {
    const count = this.tasksPerSubtopology()?.get(store.subtopology)
    if (count === undefined) {
      throw new StoreNotQueryableError(`store '${store.name}' cannot be located yet: the instance learns its topics' partition counts at start(); start it first`)
    }
    return partitionOfKey(key, count)
  }

  /** The view target of a store, for `keyValueView` / `windowView`. */
  target<K>(name: string, kind: StoreKind): StoreTarget<K> {
    const store = this.find(name, kind)
    return {
      name,
      subtopology: store.subtopology,
      keySerde: store.keySerde as Serde<K>,
      partitionOf: (key) => this.partitionOf(store, key),
    }
  }
}
