/**
 * The store of a global table: a full copy of a topic's latest value per key, on every instance.
 *
 * Unlike a task's stores, a global store is read by any task with keys its records compute (a
 * stream-global table join looks up `keySelector(key, value)`), so no per-batch prefetch can know
 * them in advance. It therefore holds every row in memory, deserialized, beside the engine that
 * persists it: reads are synchronous and complete (a missing key is absent, never a cache miss).
 * That bounds global tables to what fits in memory, which is what reference data (model prices,
 * tenant tiers, API-key owners) needs; Kafka Streams reads RocksDB per lookup instead.
 *
 * It follows its source topic only: `restoreBatch` (restore and the ongoing updates alike) applies
 * source records to memory and the engine in one batch; processors cannot write it.
 */
import type { Logger } from 'pino'
import type { Serde } from '../../schemas/serde.js'
import { bytesToMapKey } from '../bytes.js'
import { stateLogger } from '../log.js'
import type { ChangelogRecord, EngineStore, KeyValueStore, LocalStateStatus, StoreOpenContext, WriteOp } from '../types.js'
import { KeyMemo } from './key-memo.js'
import { openEngineStore, wipeEngineStore } from './open-engine.js'

interface Row<V> {
  readonly key: Buffer
  readonly value: V
}

export interface GlobalStoreSpec<K, V> {
  name: string
  keySerde: Serde<K>
  valueSerde: Serde<V>
}

export class GlobalKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly logged = false
  private readonly rows = new Map<string, Row<V>>()
  private readonly mapKeys = new KeyMemo<string>()
  /** Source records that could not be deserialized (skipped, so one bad row cannot stop every instance). */
  skipped = 0

  private constructor(
    private readonly spec: GlobalStoreSpec<K, V>,
    private readonly ctx: StoreOpenContext,
    private engineStore: EngineStore,
    readonly localState: LocalStateStatus,
    private readonly log: Logger,
  ) {}

  /** Opens the engine and loads what it holds into memory. */
  static async open<K, V>(spec: GlobalStoreSpec<K, V>, ctx: Omit<StoreOpenContext, 'cache'>, log: Logger = stateLogger): Promise<GlobalKeyValueStore<K, V>> {
    const context = ctx as StoreOpenContext
    const { engineStore, localState } = await openEngineStore(context, { name: spec.name, logged: false })
    const store = new GlobalKeyValueStore(spec, context, engineStore, localState, log)
    for await (const [key, value] of engineStore.iterate()) store.apply(key, value)
    return store
  }

  get name(): string {
    return this.spec.name
  }

  /** Rows held. */
  get size(): number {
    return this.rows.size
  }

  /** Every row is in memory: nothing to load. */
  async prefetch(): Promise<void> {}

  get(key: K): V | undefined {
    return this.rows.get(this.mapKeyOf(key))?.value
  }

  getMany(keys: readonly K[]): (V | undefined)[] {
    return keys.map((key) => this.get(key))
  }

  put(): void {
    throw this.readOnly()
  }

  putAll(): void {
    throw this.readOnly()
  }

  delete(): void {
    throw this.readOnly()
  }

  async *range(from?: K, to?: K): AsyncIterable<[K, V]> {
    const gte = from === undefined ? undefined : this.spec.keySerde.serialize(from)
    const lt = to === undefined ? undefined : this.spec.keySerde.serialize(to)
    const rows = [...this.rows.values()].filter((r) => (!gte || Buffer.compare(r.key, gte) >= 0) && (!lt || Buffer.compare(r.key, lt) < 0))
    rows.sort((a, b) => Buffer.compare(a.key, b.key))
    for (const row of rows) yield [this.spec.keySerde.deserialize(row.key), row.value]
  }

  all(): AsyncIterable<[K, V]> {
    return this.range()
  }

  async approximateCount(): Promise<number> {
    return this.rows.size
  }

  /** Writes go to the engine as they are applied. */
  async flush(): Promise<void> {}

  /**
   * Applies source-topic records (key and value bytes as in the topic; null value deletes) to memory
   * and, in one batch, the engine. Records whose key or value cannot be deserialized are
   * skipped and counted (the caller drops records without a key).
   */
  async restoreBatch(records: readonly ChangelogRecord[]): Promise<void> {
    const ops: WriteOp[] = []
    for (const r of records) {
      if (!this.apply(r.key, r.value)) continue
      ops.push(r.value === null ? { type: 'del', key: r.key } : { type: 'put', key: r.key, value: r.value })
    }
    if (ops.length > 0) await this.engineStore.write(ops)
  }

  async wipe(): Promise<void> {
    this.rows.clear()
    this.engineStore = await wipeEngineStore(this.ctx, this.engineStore)
  }

  /** Nothing is ever unflushed: writes go to the engine as they are applied. */
  discardUnflushed(): void {}

  async close(): Promise<void> {
    this.rows.clear()
    await this.engineStore.close()
  }

  private apply(key: Buffer, value: Buffer | null): boolean {
    const mapKey = bytesToMapKey(key)
    if (value === null) {
      this.rows.delete(mapKey)
      return true
    }
    try {
      this.spec.keySerde.deserialize(key)
      this.rows.set(mapKey, { key, value: this.spec.valueSerde.deserialize(value) })
      return true
    } catch (err) {
      this.skip({ key, value }, err)
      return false
    }
  }

  private skip(record: ChangelogRecord, err: unknown): void {
    this.skipped++
    // One line per bad record: a global topic is reference data, where bad records are rare and each matters.
    this.log.warn({ store: this.name, key: record.key.toString('hex').slice(0, 64), err: (err as Error).message }, 'global table record skipped')
  }

  private mapKeyOf(key: K): string {
    let mapKey = this.mapKeys.get(key)
    if (mapKey === undefined) {
      mapKey = bytesToMapKey(this.spec.keySerde.serialize(key))
      this.mapKeys.set(key, mapKey)
    }
    return mapKey
  }

  private readOnly(): Error {
    return new Error(`store '${this.name}' is a global table's store: it follows its source topic and processors cannot write it`)
  }
}
