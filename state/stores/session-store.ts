import type { CacheEntry } from '../record-cache.js'
import { ENTRY_OVERHEAD } from '../record-cache.js'
import { retainedCopy } from '../retained-bytes.js'
import type { ChangelogRecord, EngineStore, LocalStateStatus, Session, SessionStore, SessionStoreSpec, StoreOpenContext, WriteOp } from '../types.js'
import { bytesToMapKey, prefixEnd, readOrderedInt64, writeOrderedInt64 } from '../bytes.js'
import { describeKey } from './key-value-store.js'
import { openEngineStore } from './open-engine.js'
import { SegmentKeyFilter } from './segment-key-filter.js'
import { SegmentedStore, validateRetention } from './segmented-store.js'
import { ValueSizeEstimate, serializeValue } from './byte-entry.js'
import { StoreMissError } from './store-miss-error.js'

/**
 * Logged key: [key length: u32 BE][key bytes][session end: 8 bytes ordered][session start: 8 bytes ordered].
 * Engine key: [segment of session end: 8 bytes ordered][logged key]. Segmenting by end lets expiry
 * drop whole segments of sessions that ended before `streamTime - retention`.
 */
export function sessionLoggedKey(key: Buffer, start: number, end: number): Buffer {
  const b = Buffer.allocUnsafe(4 + key.length + 16)
  b.writeUInt32BE(key.length, 0)
  key.copy(b, 4)
  writeOrderedInt64(b, end, 4 + key.length)
  writeOrderedInt64(b, start, 12 + key.length)
  return b
}

export function parseSessionLoggedKey(logged: Buffer, offset = 0): { key: Buffer; start: number; end: number } {
  const length = logged.readUInt32BE(offset)
  const at = offset + 4 + length
  return { key: logged.subarray(offset + 4, at), end: readOrderedInt64(logged, at), start: readOrderedInt64(logged, at + 8) }
}

function keyPrefix(key: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + key.length)
  b.writeUInt32BE(key.length, 0)
  key.copy(b, 4)
  return b
}

interface CachedSession {
  logged: Buffer
  start: number
  end: number
  /** null: a removal; undefined: put since the last flush, serialized by the flush (see `ByteEntry.bytes`). */
  bytes: Buffer | null | undefined
  value: unknown
  decoded: boolean
  dirty: boolean
  /** Bytes counted for this session in its entry's size (estimated until serialized). */
  size: number
}

/**
 * The cache unit of a session store is a record key with its sessions, so `findSessions` can answer
 * synchronously: either every session of the key it asks about is here or the read throws.
 */
interface SessionListEntry extends CacheEntry {
  keyBytes: Buffer
  /**
   * Every session of the key that ends at or after this is here (-Infinity: all of them; Infinity:
   * no guarantee, e.g. only blind writes). A prefetch with an earliest end lowers it to that end.
   */
  completeFrom: number
  sessions: Map<string, CachedSession>
}

/** Bytes held per cached session beyond its key and value (measured: `bench/state/cache-entry-memory.ts`). */
const SESSION_OVERHEAD = 580
const sessionSize = (logged: Buffer, valueBytes: number): number => logged.length + valueBytes + SESSION_OVERHEAD

class SegmentedSessionStore<K, V> extends SegmentedStore<K, V, SessionListEntry> implements SessionStore<K, V> {
  private readonly sizeEstimate = new ValueSizeEstimate()
  /**
   * Record keys (their prefixes) this store wrote sessions of to the engine, per segment: a prefetch
   * scans only the segments that may hold the key. Each scan opens a RocksDB iterator (~200 us in
   * rocksdb-native); with many keys most of a batch's keys are new, and their scans found nothing.
   */
  private readonly writtenKeys: SegmentKeyFilter

  constructor(spec: SessionStoreSpec<K, V>, ctx: StoreOpenContext, engineStore: EngineStore, localState: LocalStateStatus) {
    super(spec, ctx, engineStore, localState)
    this.writtenKeys = new SegmentKeyFilter(localState !== 'existing')
  }

  async prefetch(keys: readonly K[], earliestEnd = -Infinity): Promise<void> {
    // Sessions that ended before the expiry cutoff are hidden anyway: an entry complete from the cutoff
    // answers any earlier bound. (Asking for "all of them" there, as before, reloaded every key of a
    // batch holding one late record, though the cache had what it needed: most session loads.)
    const completeFrom = Math.max(earliestEnd, this.expiredBefore)
    const toLoad = new Map<string, Buffer>()
    for (const key of keys) {
      const { bytes: keyBytes, mapKey } = this.keyOf(key)
      const entry = this.ns.get(mapKey)
      if (entry) entry.used = true
      if (!entry || entry.completeFrom > completeFrom) toLoad.set(mapKey, keyBytes)
    }
    if (toLoad.size === 0) return
    const bounds = await this.segments.bounds()
    if (!this.writtenKeys.ready) this.writtenKeys.trackAbove(bounds?.[1])
    await Promise.all(
      [...toLoad].map(async ([mapKey, keyBytes]) => {
        const stored: [Buffer, Buffer][] = []
        if (bounds) {
          const prefix = keyPrefix(keyBytes)
          // A session lives in the segment of its end: older segments hold only sessions ended before.
          const first = completeFrom === -Infinity ? bounds[0] : Math.max(bounds[0], this.segments.segmentOf(completeFrom))
          for (let segment = first; segment <= bounds[1]; segment++) {
            if (!this.writtenKeys.mayHold(segment, prefix)) continue
            const gte = this.segments.engineKey(segment, prefix)
            const lt = prefixEnd(gte)!
            for await (const [engineKey, value] of this.engineStore.iterate({ gte, lt })) stored.push([engineKey.subarray(8), value])
          }
        }
        this.complete(mapKey, keyBytes, stored, completeFrom)
      }),
    )
  }

  put(session: Session<K>, value: V): void {
    if (session.end < this.expiredBefore) return
    const entry = this.entryFor(session.key)
    const logged = retainedCopy(sessionLoggedKey(entry.keyBytes, session.start, session.end))
    const size = sessionSize(logged, this.sizeEstimate.bytes)
    this.setSession(entry, { logged, start: session.start, end: session.end, bytes: undefined, value, decoded: true, dirty: true, size })
  }

  remove(session: Session<K>): void {
    const entry = this.entryFor(session.key)
    const logged = retainedCopy(sessionLoggedKey(entry.keyBytes, session.start, session.end))
    this.setSession(entry, {
      logged,
      start: session.start,
      end: session.end,
      bytes: null,
      value: undefined,
      decoded: false,
      dirty: true,
      size: sessionSize(logged, 0),
    })
  }

  findSessions(key: K, earliestEnd: number, latestStart: number): [Session<K>, V][] {
    const entry = this.ns.get(this.keyOf(key).mapKey)
    if (!entry || Math.max(earliestEnd, this.expiredBefore) < entry.completeFrom) {
      const which = entry && entry.completeFrom !== Infinity ? ` ending before ${entry.completeFrom}` : ''
      throw new StoreMissError(this.name, `the sessions${which} of key ${describeKey(key)}`)
    }
    entry.used = true
    const result: [Session<K>, V][] = []
    for (const s of entry.sessions.values()) {
      if (s.bytes === null || s.end < earliestEnd || s.start > latestStart || s.end < this.expiredBefore) continue
      if (!s.decoded) {
        s.value = this.valueSerde.deserialize(s.bytes!)
        s.decoded = true
      }
      result.push([{ key, start: s.start, end: s.end }, s.value as V])
    }
    return result.sort((a, b) => a[0].start - b[0].start || a[0].end - b[0].end)
  }

  protected purgeExpired(cutoff: number): void {
    this.writtenKeys.dropBelow(this.segments.segmentOf(cutoff))
    for (const entry of this.ns.entries.values()) {
      const before = entry.size
      for (const [id, s] of entry.sessions) {
        if (s.end < cutoff) {
          entry.sessions.delete(id)
          entry.size -= s.size
        }
      }
      entry.dirty = [...entry.sessions.values()].some((s) => s.dirty)
      this.ns.update(entry, before)
    }
  }

  async flush(): Promise<void> {
    if (this.ns.dirty.size === 0) return
    const ops: WriteOp[] = []
    const changelog = this.changelog
    const flushed: [SessionListEntry, CachedSession, Buffer | null][] = []
    // Serialize first: a value the serde rejects fails the flush with nothing handed on or marked clean.
    for (const entry of this.ns.dirty) {
      const before = entry.size
      for (const s of entry.sessions.values()) {
        if (!s.dirty || s.bytes !== undefined) continue
        const bytes = retainedCopy(serializeValue(this.name, this.valueSerde, s.value as V, s.logged))
        s.bytes = bytes
        this.sizeEstimate.bytes = bytes.length
        const size = sessionSize(s.logged, bytes.length)
        entry.size += size - s.size
        s.size = size
      }
      this.ns.update(entry, before)
    }
    for (const entry of [...this.ns.dirty]) {
      const before = entry.size
      for (const [id, s] of entry.sessions) {
        if (!s.dirty) continue
        const key = this.writtenEngineKeyOf(s.logged, s.end)
        const bytes = s.bytes as Buffer | null
        ops.push(bytes === null ? { type: 'del', key } : { type: 'put', key, value: bytes })
        changelog?.append(this.name, s.logged, bytes)
        s.dirty = false
        flushed.push([entry, s, bytes])
        // A flushed removal needs no tombstone where the list is complete: no later load covers it.
        if (bytes === null && s.end >= entry.completeFrom) {
          entry.sessions.delete(id)
          entry.size -= s.size
        }
      }
      entry.dirty = false
      this.ns.update(entry, before)
    }
    try {
      if (changelog?.flush) await changelog.flush()
      await this.engineStore.write(ops)
    } catch (err) {
      for (const [entry, s, bytes] of flushed) {
        if (s.bytes !== bytes) continue
        const before = entry.size
        if (!entry.sessions.has(bytesToMapKey(s.logged))) {
          entry.sessions.set(bytesToMapKey(s.logged), s)
          entry.size += s.size
        }
        s.dirty = true
        entry.dirty = true
        this.ns.update(entry, before)
      }
      throw err
    }
  }

  async restoreBatch(records: readonly ChangelogRecord[]): Promise<void> {
    const ops: WriteOp[] = []
    for (const r of records) {
      const parsed = parseSessionLoggedKey(r.key)
      const key = this.writtenEngineKeyOf(r.key, parsed.end)
      ops.push(r.value === null ? { type: 'del', key } : { type: 'put', key, value: r.value })
      if (this.ns.entries.size > 0) this.ns.delete(bytesToMapKey(parsed.key))
    }
    await this.engineStore.write(ops)
  }

  override async wipe(): Promise<void> {
    await super.wipe()
    this.writtenKeys.reset()
  }

  /** The engine key of a session about to be written to the engine, its record key noted in `writtenKeys`. */
  private writtenEngineKeyOf(logged: Buffer, end: number): Buffer {
    const segment = this.segments.segmentOf(end)
    this.segments.touched(segment)
    // The logged key starts with the record key's prefix (length + bytes), what a prefetch scans by.
    this.writtenKeys.add(segment, logged.subarray(0, 4 + logged.readUInt32BE(0)))
    return this.segments.engineKey(segment, logged)
  }

  /** The cache entry of a key, created incomplete if absent (blind writes need no prefetch). */
  private entryFor(key: K): SessionListEntry {
    const { bytes: keyBytes, mapKey } = this.keyOf(key)
    return this.entryOf(mapKey, keyBytes)
  }

  private entryOf(mapKey: string, keyBytes: Buffer): SessionListEntry {
    let entry = this.ns.get(mapKey)
    if (!entry) {
      entry = {
        keyBytes: retainedCopy(keyBytes),
        completeFrom: Infinity,
        sessions: new Map(),
        size: keyBytes.length + ENTRY_OVERHEAD,
        dirty: false,
        used: true,
      }
      this.ns.set(mapKey, entry)
    }
    return entry
  }

  private setSession(entry: SessionListEntry, session: CachedSession): void {
    const before = entry.size
    const id = bytesToMapKey(session.logged)
    const previous = entry.sessions.get(id)
    if (previous) entry.size -= previous.size
    entry.sessions.set(id, session)
    entry.size += session.size
    entry.dirty = true
    entry.used = true
    this.ns.update(entry, before)
  }

  /**
   * Merges what the engine holds (every session ending at or after `completeFrom`) under the sessions
   * cached already: written since (which win), or loaded before (the same as the engine's).
   */
  private complete(mapKey: string, keyBytes: Buffer, stored: readonly [Buffer, Buffer][], completeFrom: number): void {
    const entry = this.entryOf(mapKey, keyBytes)
    if (entry.completeFrom <= completeFrom) return
    const before = entry.size
    for (const [logged, value] of stored) {
      const id = bytesToMapKey(logged)
      if (entry.sessions.has(id)) continue
      const { start, end } = parseSessionLoggedKey(logged)
      // Where the entry was complete already the cache is the truth: the engine's copy may predate a
      // removal flushed while this read ran.
      if (end >= entry.completeFrom) continue
      const s: CachedSession = {
        logged: retainedCopy(logged),
        start,
        end,
        bytes: retainedCopy(value),
        value: undefined,
        decoded: false,
        dirty: false,
        size: sessionSize(logged, value.length),
      }
      entry.sessions.set(id, s)
      entry.size += s.size
    }
    entry.completeFrom = completeFrom
    this.ns.update(entry, before)
  }
}

export async function openSessionStore<K, V>(spec: SessionStoreSpec<K, V>, ctx: StoreOpenContext): Promise<SessionStore<K, V>> {
  validateRetention(spec)
  const { engineStore, localState } = await openEngineStore(ctx, spec)
  return new SegmentedSessionStore(spec, ctx, engineStore, localState)
}
