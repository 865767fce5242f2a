import type { CacheEntry, CacheNamespace } from '../record-cache.js'
import type { Serde } from '../../schemas/serde.js'
import type { ChangelogSink, EngineStore, KeyValueStoreSpec, LocalStateStatus, StoreOpenContext } from '../types.js'
import { wipeEngineStore } from './open-engine.js'

/**
 * The life cycle every typed store shares: its serdes, the engine store it writes to, its namespace of
 * the task's record cache (flushed by the cache when over budget), and wipe and close around them.
 * Subclasses decide what a cache entry `E` holds and how it reaches the engine (`flush`).
 */
export abstract class CachedStore<K, V, E extends CacheEntry> {
  readonly name: string
  readonly logged: boolean
  protected readonly keySerde: Serde<K>
  protected readonly valueSerde: Serde<V>
  protected readonly ns: CacheNamespace<E>

  constructor(
    spec: KeyValueStoreSpec<K, V>,
    protected readonly ctx: StoreOpenContext,
    protected engineStore: EngineStore,
    readonly localState: LocalStateStatus,
  ) {
    this.name = spec.name
    this.logged = spec.logged ?? true
    this.keySerde = spec.keySerde
    this.valueSerde = spec.valueSerde
    this.ns = ctx.cache.register<E>(spec.name, () => this.flush())
  }

  /** Where flushes hand their records: nowhere for an unlogged store. */
  protected get changelog(): ChangelogSink | undefined {
    return this.logged ? this.ctx.changelog : undefined
  }

  abstract flush(): Promise<void>

  async wipe(): Promise<void> {
    this.ns.clear()
    this.engineStore = await wipeEngineStore(this.ctx, this.engineStore)
  }

  async close(): Promise<void> {
    await this.flush()
    this.ctx.cache.unregister(this.name)
    await this.engineStore.close()
  }
}
