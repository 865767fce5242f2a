import type { ChangelogRecord, KeyValueStore, KeyValueStoreSpec, StoreOpenContext, WriteOp } from '../types.js'
import { bytesToMapKey } from '../bytes.js'
import { ValueSizeEstimate, entryBytes, flushByteEntries, loadByteEntries, mergeWithDirty, readByteEntry, writeByteEntry, type ByteEntry } from './byte-entry.js'
import { CachedStore } from './cached-store.js'
import { openEngineStore } from './open-engine.js'
import { StoreMissError } from './store-miss-error.js'

/** Key layout: the serialized key, as is. Range scans follow the key serde's byte order. */
class CachedKeyValueStore<K, V> extends CachedStore<K, V, ByteEntry> implements KeyValueStore<K, V> {
  private readonly sizeEstimate = new ValueSizeEstimate()

  async prefetch(keys: readonly K[]): Promise<void> {
    const missing = new Map<string, Buffer>()
    for (const key of keys) {
      const { bytes, mapKey } = this.keyOf(key)
      const entry = this.ns.get(mapKey)
      if (entry) entry.used = true
      else missing.set(mapKey, bytes)
    }
    await loadByteEntries(this.ns, this.engineStore, missing)
  }

  get(key: K): V | undefined {
    const entry = this.ns.get(this.keyOf(key).mapKey)
    if (!entry) throw new StoreMissError(this.name, `key ${describeKey(key)}`)
    return readByteEntry(entry, this.valueSerde)
  }

  getMany(keys: readonly K[]): (V | undefined)[] {
    return keys.map((key) => this.get(key))
  }

  put(key: K, value: V): void {
    writeByteEntry(this.ns, this.keyOf(key).mapKey, value, false, this.sizeEstimate)
  }

  putAll(entries: readonly (readonly [K, V])[]): void {
    for (const [key, value] of entries) this.put(key, value)
  }

  delete(key: K): void {
    writeByteEntry(this.ns, this.keyOf(key).mapKey, undefined, true, this.sizeEstimate)
  }

  async *range(from?: K, to?: K): AsyncIterable<[K, V]> {
    const gte = from === undefined ? undefined : this.keySerde.serialize(from)
    const lt = to === undefined ? undefined : this.keySerde.serialize(to)
    const dirty: [Buffer, Buffer | null][] = []
    for (const entry of this.ns.dirty) {
      if ((gte && Buffer.compare(entry.key, gte) < 0) || (lt && Buffer.compare(entry.key, lt) >= 0)) continue
      dirty.push([entry.key, entryBytes(this.ns, entry, this.valueSerde, this.sizeEstimate, this.name)])
    }
    dirty.sort((a, b) => Buffer.compare(a[0], b[0]))
    const range: { gte?: Buffer; lt?: Buffer } = {}
    if (gte) range.gte = gte
    if (lt) range.lt = lt
    for await (const [key, value] of mergeWithDirty(this.engineStore.iterate(range), dirty)) {
      yield [this.keySerde.deserialize(key), this.valueSerde.deserialize(value)]
    }
  }

  all(): AsyncIterable<[K, V]> {
    return this.range()
  }

  async approximateCount(): Promise<number> {
    let pendingNew = 0
    for (const entry of this.ns.dirty) if (entry.bytes !== null) pendingNew++
    return (await this.engineStore.approximateCount()) + pendingNew
  }

  flush(): Promise<void> {
    return flushByteEntries({
      store: this.name,
      ns: this.ns,
      engineStore: this.engineStore,
      changelog: this.changelog,
      valueSerde: this.valueSerde,
      estimate: this.sizeEstimate,
      engineKey: (logged) => logged,
    })
  }

  async restoreBatch(records: readonly ChangelogRecord[]): Promise<void> {
    const ops: WriteOp[] = records.map((r) => (r.value === null ? { type: 'del', key: r.key } : { type: 'put', key: r.key, value: r.value }))
    // Restores run before processing, on an empty cache: skip the per-record key conversion then.
    if (this.ns.entries.size > 0) for (const r of records) this.ns.delete(bytesToMapKey(r.key))
    await this.engineStore.write(ops)
  }
}

export function describeKey(key: unknown): string {
  try {
    const text = typeof key === 'string' ? JSON.stringify(key) : Buffer.isBuffer(key) ? `0x${key.toString('hex')}` : JSON.stringify(key)
    return text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    return String(key)
  }
}

export async function openKeyValueStore<K, V>(spec: KeyValueStoreSpec<K, V>, ctx: StoreOpenContext): Promise<KeyValueStore<K, V>> {
  const { engineStore, localState } = await openEngineStore(ctx, spec)
  return new CachedKeyValueStore(spec, ctx, engineStore, localState)
}
