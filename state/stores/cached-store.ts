import type { CacheEntry, CacheNamespace } from '../record-cache.js'
import type { Serde } from '../../schemas/serde.js'
import type { ChangelogSink, EngineStore, KeyValueStoreSpec, LocalStateStatus, StoreOpenContext } from '../types.js'
import { wipeEngineStore } from './open-engine.js'
import { bytesToMapKey } from '../bytes.js'
import { KeyMemo } from './key-memo.js'
import { retainedCopy } from '../retained-bytes.js'

/** A record key converted for the cache: its serialized bytes and their map key. */
export interface KeyRef {
  readonly bytes: Buffer
  readonly mapKey: string
}

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
  /** Each key's bytes and map key, converted once (see `KeyMemo`). */
  private readonly keyRefs = new KeyMemo<KeyRef>()

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

  /** The key's bytes and cache map key. */
  protected keyOf(key: K): KeyRef {
    let ref = this.keyRefs.get(key)
    if (ref === undefined) {
      // Copied out of Node's pool (see `KeyMemo`); a put's cache entry then shares the copy.
      const bytes = retainedCopy(this.keySerde.serialize(key))
      ref = { bytes, mapKey: bytesToMapKey(bytes) }
      this.keyRefs.set(key, ref)
    }
    return ref
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

  discardUnflushed(): void {
    this.ns.clear()
  }

  /** The engine store closes even when the flush fails: open, it keeps its lock (RocksDB's) in this process. */
  async close(): Promise<void> {
    try {
      await this.flush()
    } finally {
      this.ctx.cache.unregister(this.name)
      await this.engineStore.close()
    }
  }
}
