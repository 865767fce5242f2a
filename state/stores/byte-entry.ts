import type { CacheEntry, CacheNamespace } from '../record-cache.js'
import { ENTRY_OVERHEAD } from '../record-cache.js'
import { mapKeyToBytes } from '../bytes.js'
import { retainedCopy } from '../retained-bytes.js'
import type { Serde } from '../../schemas/serde.js'
import type { ChangelogSink, EngineStore, WriteOp } from '../types.js'

/** A cached record of a key-value or window store: the logged key, its value bytes, the typed value. */
export interface ByteEntry extends CacheEntry {
  /** The entry's key in its namespace: the logged key's bytes as a latin1 string. */
  readonly mapKey: string
  /**
   * The key as logged to the changelog (engine key minus any segment prefix), made from `mapKey` on
   * each read (flushes, scans): not kept, so an entry holds no Buffer of its own for its key.
   */
  readonly key: Buffer
  /**
   * null: known absent, or a tombstone if dirty. undefined: the value is held typed only, either
   * `put` since the last flush (not serialized yet: the flush serializes it once, however many times
   * the key was written in between), or put and flushed since (the bytes went to the engine and were
   * not kept: `value` is what reads need).
   */
  bytes: Buffer | null | undefined
  /** The deserialized value, once a read needed it (always set while `bytes` is undefined). */
  value: unknown
  decoded: boolean
}

/**
 * Why a class: `key` is a getter over `mapKey`. A retained key Buffer was an allocation of its own
 * per entry (~200 bytes with its ArrayBuffer), the largest part of a small entry such as an event id
 * of a deduplication store; the map key string holds the same bytes.
 */
class CachedByteEntry implements ByteEntry {
  constructor(
    readonly mapKey: string,
    public bytes: Buffer | null | undefined,
    public value: unknown,
    public decoded: boolean,
    public dirty: boolean,
    public used: boolean,
    public size: number,
  ) {}

  get key(): Buffer {
    return mapKeyToBytes(this.mapKey)
  }
}

/**
 * Serialized value sizes of one store, for the size of entries whose value is not serialized yet:
 * the last size this store serialized or loaded. Flushes replace the estimate by the real size, so
 * the cache's byte count is off by at most the batches written since the last flush.
 */
export class ValueSizeEstimate {
  bytes = 64
}

/** A clean entry read from the engine (`bytes`), or known absent (null). `mapKey`: the logged key's latin1 string. */
export function byteEntry(mapKey: string, bytes: Buffer | null): ByteEntry {
  return new CachedByteEntry(mapKey, bytes === null ? null : retainedCopy(bytes), undefined, false, false, true, mapKey.length + (bytes?.length ?? 0) + ENTRY_OVERHEAD)
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
  entry.size = entry.mapKey.length + bytes.length + ENTRY_OVERHEAD
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
  for (const mapKey of missing.keys()) {
    // A write that raced the read is newer than what the engine returned.
    if (!ns.get(mapKey)) ns.set(mapKey, byteEntry(mapKey, values[i] ?? null))
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
  /** The engine key of a logged key. */
  engineKey: (logged: Buffer) => Buffer
}): Promise<void> {
  const { ns, changelog, store, valueSerde, estimate } = options
  if (ns.dirty.size === 0) return
  // Serialize first, so a value that cannot be serialized fails the flush before anything is handed
  // on or marked clean: the entries stay dirty and nothing half-written reaches changelog or engine.
  for (const entry of ns.dirty) {
    if (entry.bytes !== undefined) continue
    // Not a retained copy: the bytes go to the engine and the changelog, and the entry lets go of
    // them once they are written (below).
    const bytes = serializeValue(store, valueSerde, entry.value as V, entry.key)
    const size = entry.mapKey.length + bytes.length + ENTRY_OVERHEAD
    ns.adjustSize(size - entry.size)
    entry.size = size
    entry.bytes = bytes
    estimate.bytes = bytes.length
  }
  const ops: WriteOp[] = []
  const flushed: [ByteEntry, Buffer | null][] = []
  for (const entry of ns.dirty) {
    const logged = entry.key
    const key = options.engineKey(logged)
    // Serialized above: only null (a tombstone) or bytes remain.
    const bytes = entry.bytes as Buffer | null
    ops.push(bytes === null ? { type: 'del', key } : { type: 'put', key, value: bytes })
    changelog?.append(store, logged, bytes)
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
      if (ns.get(entry.mapKey) === entry && entry.bytes === bytes) {
        entry.dirty = true
        ns.update(entry, entry.size)
      }
    }
    throw err
  }
  // Written: an entry holding its typed value keeps that alone (reads use it; a later write
  // serializes again), so a cached value is not held twice. Its size stays counted with the bytes,
  // as what the entry would cost reloaded from the engine.
  for (const [entry, bytes] of flushed) if (bytes !== null && entry.bytes === bytes && entry.decoded && !entry.dirty) entry.bytes = undefined
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
export function writeByteEntry(ns: CacheNamespace<ByteEntry>, mapKey: string, value: unknown, deleted: boolean, estimate: ValueSizeEstimate): void {
  const entry = ns.get(mapKey)
  if (!entry) {
    const size = mapKey.length + (deleted ? 0 : estimate.bytes) + ENTRY_OVERHEAD
    ns.set(mapKey, new CachedByteEntry(mapKey, deleted ? null : undefined, value, !deleted, true, true, size))
    return
  }
  const before = entry.size
  if (!deleted && entry.bytes !== undefined) entry.size = mapKey.length + (entry.bytes?.length ?? estimate.bytes) + ENTRY_OVERHEAD
  else if (deleted) entry.size = mapKey.length + ENTRY_OVERHEAD
  entry.bytes = deleted ? null : undefined
  entry.value = value
  entry.decoded = !deleted
  entry.dirty = true
  entry.used = true
  ns.update(entry, before)
}
