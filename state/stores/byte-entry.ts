import type { CacheEntry, CacheNamespace } from '../record-cache.js'
import { ENTRY_OVERHEAD } from '../record-cache.js'
import { bytesToMapKey } from '../bytes.js'
import type { Serde } from '../../schemas/serde.js'
import type { ChangelogSink, EngineStore, WriteOp } from '../types.js'

/** A cached record of a key-value or window store: the logged key, its value bytes, the typed value. */
export interface ByteEntry extends CacheEntry {
  /** The key as logged to the changelog (engine key minus any segment prefix). */
  key: Buffer
  /** null: known absent, or a tombstone if dirty. */
  bytes: Buffer | null
  /** The deserialized value, once a read needed it. */
  value: unknown
  decoded: boolean
}

export function byteEntry(key: Buffer, bytes: Buffer | null, dirty: boolean, value?: unknown): ByteEntry {
  return {
    key,
    bytes,
    value,
    decoded: value !== undefined,
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
    entry.value = valueSerde.deserialize(entry.bytes)
    entry.decoded = true
  }
  return entry.value as V
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
 * The flush every byte store shares: hand dirty entries to the changelog, wait for it if the sink
 * acknowledges, then one engine batch. Entries are marked clean up front (writes made during the
 * awaits dirty them again); if the engine write fails, those still unchanged are marked dirty again.
 */
export async function flushByteEntries(options: {
  store: string
  ns: CacheNamespace<ByteEntry>
  engineStore: EngineStore
  changelog: ChangelogSink | undefined
  engineKey: (entry: ByteEntry) => Buffer
}): Promise<void> {
  const { ns, changelog, store } = options
  if (ns.dirty.size === 0) return
  const ops: WriteOp[] = []
  const flushed: [ByteEntry, Buffer | null][] = []
  for (const entry of ns.dirty) {
    const key = options.engineKey(entry)
    ops.push(entry.bytes === null ? { type: 'del', key } : { type: 'put', key, value: entry.bytes })
    changelog?.append(store, entry.key, entry.bytes)
    entry.dirty = false
    flushed.push([entry, entry.bytes])
  }
  ns.dirty.clear()
  try {
    if (changelog?.flush) await changelog.flush()
    await options.engineStore.write(ops)
  } catch (err) {
    for (const [entry, bytes] of flushed) {
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

/** Overwrites a cached entry in place (one hash lookup per write, no new entry object), or adds it. */
export function writeByteEntry(ns: CacheNamespace<ByteEntry>, mapKey: string, key: Buffer, bytes: Buffer | null, value: unknown): void {
  const entry = ns.get(mapKey)
  if (!entry) {
    ns.set(mapKey, byteEntry(key, bytes, true, value))
    return
  }
  const before = entry.size
  entry.bytes = bytes
  entry.value = value
  entry.decoded = value !== undefined
  entry.dirty = true
  entry.used = true
  entry.size = key.length + (bytes?.length ?? 0) + ENTRY_OVERHEAD
  ns.update(entry, before)
}
