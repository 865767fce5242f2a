import type { CacheEntry, CacheNamespace } from '../record-cache.js'
import { ENTRY_OVERHEAD } from '../record-cache.js'
import { bytesToMapKey } from '../bytes.js'
import { retainedCopy } from '../retained-bytes.js'
import type { Serde } from '../../schemas/serde.js'
import type { ChangelogSink, EngineStore, WriteOp } from '../types.js'

/** A cached record of a key-value or window store: the logged key, its value bytes, the typed value. */
export interface ByteEntry extends CacheEntry {
  /** The key as logged to the changelog (engine key minus any segment prefix). */
  key: Buffer
  /**
   * null: known absent, or a tombstone if dirty. undefined: a value `put` since the last flush, not
   * serialized yet: puts keep the typed value and the flush (or a scan that needs bytes) serializes it
   * once, however many times the key was written in between.
   */
  bytes: Buffer | null | undefined
  /** The deserialized value, once a read needed it (always set while `bytes` is undefined). */
  value: unknown
  decoded: boolean
}

/**
 * Serialized value sizes of one store, for the size of entries whose value is not serialized yet:
 * the last size this store serialized or loaded. Flushes replace the estimate by the real size, so
 * the cache's byte count is off by at most the batches written since the last flush.
 */
export class ValueSizeEstimate {
  bytes = 64
}

export function byteEntry(key: Buffer, bytes: Buffer | null, dirty: boolean): ByteEntry {
  return {
    key: retainedCopy(key),
    bytes: bytes === null ? null : retainedCopy(bytes),
    value: undefined,
    decoded: false,
    dirty,
    used: true,
    size: key.length + (bytes?.length ?? 0) + ENTRY_OVERHEAD,
  }
}

/** A point read: the entry's typed value, deserialized by the first read that needs it. */
export function readByteEntry<V>(entry: ByteEntry, valueSerde: Serde<V>): V | undefined {
  entry.used = true
  if (entry.bytes === null) return undefined
  if (!entry.decoded) {
    entry.value = valueSerde.deserialize(entry.bytes!)
    entry.decoded = true
  }
  return entry.value as V
}

/**
 * The entry's value bytes (null for absent or a tombstone), serializing a value `put` since the last
 * flush and correcting the entry's estimated size to the real one.
 */
export function entryBytes<V>(ns: CacheNamespace<ByteEntry>, entry: ByteEntry, valueSerde: Serde<V>, estimate: ValueSizeEstimate, store: string): Buffer | null {
  if (entry.bytes !== undefined) return entry.bytes
  const bytes = retainedCopy(serializeValue(store, valueSerde, entry.value as V, entry.key))
  const before = entry.size
  entry.bytes = bytes
  entry.size = entry.key.length + bytes.length + ENTRY_OVERHEAD
  estimate.bytes = bytes.length
  ns.update(entry, before)
  return bytes
}

/**
 * Serializes a value put earlier. Puts do not serialize (see `ByteEntry.bytes`), so a value its serde
 * rejects surfaces here, at flush (commit), not at the record's `put`: the error names the store and
 * the key so the record can be found.
 */
export function serializeValue<V>(store: string, valueSerde: Serde<V>, value: V, loggedKey: Buffer): Buffer {
  try {
    return valueSerde.serialize(value)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new Error(
      `store "${store}": the ${valueSerde.name} value serde cannot serialize the value put under changelog key 0x${loggedKey.toString('hex')}: ${message}. ` +
        'Store values are serialized at flush, so the flush (commit) fails until the aggregate returns values the serde accepts',
      { cause: err },
    )
  }
}

/**
 * The prefetch every byte store shares: one batched engine read of the logged keys the cache lacks
 * (by map key), cached clean; keys the engine lacks are cached as known absent.
 */
export async function loadByteEntries(
  ns: CacheNamespace<ByteEntry>,
  engineStore: EngineStore,
  missing: ReadonlyMap<string, Buffer>,
  engineKey?: (logged: Buffer) => Buffer,
): Promise<void> {
  if (missing.size === 0) return
  const loggedKeys = [...missing.values()]
  const values = await engineStore.getMany(engineKey ? loggedKeys.map(engineKey) : loggedKeys)
  let i = 0
  for (const [mapKey, logged] of missing) {
    // A write that raced the read is newer than what the engine returned.
    if (!ns.get(mapKey)) ns.set(mapKey, byteEntry(logged, values[i] ?? null, false))
    i++
  }
}

/**
 * The flush every byte store shares: serialize the values put since the last flush (once per key,
 * however often it was written), hand dirty entries to the changelog, wait for it if the sink
 * acknowledges, then one engine batch. Entries are marked clean up front (writes made during the
 * awaits dirty them again); if the engine write fails, those still unchanged are marked dirty again.
 */
export async function flushByteEntries<V>(options: {
  store: string
  ns: CacheNamespace<ByteEntry>
  engineStore: EngineStore
  changelog: ChangelogSink | undefined
  valueSerde: Serde<V>
  estimate: ValueSizeEstimate
  engineKey: (entry: ByteEntry) => Buffer
}): Promise<void> {
  const { ns, changelog, store, valueSerde, estimate } = options
  if (ns.dirty.size === 0) return
  // Serialize first, so a value that cannot be serialized fails the flush before anything is handed
  // on or marked clean: the entries stay dirty and nothing half-written reaches changelog or engine.
  for (const entry of ns.dirty) {
    if (entry.bytes !== undefined) continue
    const bytes = retainedCopy(serializeValue(store, valueSerde, entry.value as V, entry.key))
    const size = entry.key.length + bytes.length + ENTRY_OVERHEAD
    ns.adjustSize(size - entry.size)
    entry.size = size
    entry.bytes = bytes
    estimate.bytes = bytes.length
  }
  const ops: WriteOp[] = []
  const flushed: [ByteEntry, Buffer | null][] = []
  for (const entry of ns.dirty) {
    const key = options.engineKey(entry)
    // Serialized above: only null (a tombstone) or bytes remain.
    const bytes = entry.bytes as Buffer | null
    ops.push(bytes === null ? { type: 'del', key } : { type: 'put', key, value: bytes })
    changelog?.append(store, entry.key, bytes)
    entry.dirty = false
    flushed.push([entry, bytes])
  }
  ns.dirty.clear()
  try {
    if (changelog?.flush) await changelog.flush()
    await options.engineStore.write(ops)
  } catch (err) {
    for (const [entry, bytes] of flushed) {
      // A write since the flush began left `bytes` undefined (or null for a delete: the same content).
      if (ns.get(bytesToMapKey(entry.key)) === entry && entry.bytes === bytes) {
        entry.dirty = true
        ns.update(entry, entry.size)
      }
    }
    throw err
  }
}

/**
 * Merges an engine scan with the cache's dirty entries (sorted by key, tombstones as null), the
 * cache winning on equal keys. Both inputs ascend by key.
 */
export async function* mergeWithDirty(
  scan: AsyncIterable<[Buffer, Buffer]>,
  dirty: readonly [Buffer, Buffer | null][],
): AsyncIterable<[Buffer, Buffer]> {
  let i = 0
  for await (const [key, value] of scan) {
    while (i < dirty.length && Buffer.compare(dirty[i]![0], key) < 0) {
      const [k, v] = dirty[i++]!
      if (v !== null) yield [k, v]
    }
    if (i < dirty.length && Buffer.compare(dirty[i]![0], key) === 0) {
      const v = dirty[i++]![1]
      if (v !== null) yield [key, v]
      continue
    }
    yield [key, value]
  }
  while (i < dirty.length) {
    const [k, v] = dirty[i++]!
    if (v !== null) yield [k, v]
  }
}

/**
 * Overwrites a cached entry in place (one hash lookup per write, no new entry object), or adds it.
 * `deleted` writes a tombstone. The value is kept typed, not serialized (see `ByteEntry.bytes`);
 * its size is estimated from the entry's last bytes, or the store's last serialized size.
 */
export function writeByteEntry(
  ns: CacheNamespace<ByteEntry>,
  mapKey: string,
  key: Buffer,
  value: unknown,
  deleted: boolean,
  estimate: ValueSizeEstimate,
): void {
  const entry = ns.get(mapKey)
  if (!entry) {
    const size = key.length + (deleted ? 0 : estimate.bytes) + ENTRY_OVERHEAD
    ns.set(mapKey, { key: retainedCopy(key), bytes: deleted ? null : undefined, value, decoded: !deleted, dirty: true, used: true, size })
    return
  }
  const before = entry.size
  if (!deleted && entry.bytes !== undefined) entry.size = key.length + (entry.bytes?.length ?? estimate.bytes) + ENTRY_OVERHEAD
  else if (deleted) entry.size = key.length + ENTRY_OVERHEAD
  entry.bytes = deleted ? null : undefined
  entry.value = value
  entry.decoded = !deleted
  entry.dirty = true
  entry.used = true
  ns.update(entry, before)
}
