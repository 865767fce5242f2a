import type {
  ChangelogRecord,
  EngineStore,
  LocalStateStatus,
  StoreOpenContext,
  WindowKey,
  WindowRange,
  WindowStore,
  WindowStoreSpec,
  Windowed,
  WriteOp,
} from '../types.js'
import { bytesToMapKey, mapKeyToBytes, readOrderedInt64, writeOrderedInt64 } from '../bytes.js'
import { ValueSizeEstimate, byteEntry, entryBytes, flushByteEntries, loadByteEntries, readByteEntry, writeByteEntry, type ByteEntry } from './byte-entry.js'
import { describeKey } from './key-value-store.js'
import { openEngineStore } from './open-engine.js'
import { SegmentedStore, validateRetention } from './segmented-store.js'
import { retainedCopy } from '../retained-bytes.js'
import { KeyMemo } from './key-memo.js'
import { Segments } from './segments.js'
import { SegmentKeyFilter } from './segment-key-filter.js'
import { StoreMissError } from './store-miss-error.js'

/**
 * Logged key (changelog and cache): [key length: u32 BE][key bytes][window start: 8 bytes ordered].
 * Engine key: [segment of window start: 8 bytes ordered][logged key].
 * The length prefix keeps one key's windows contiguous and in start order: without it, key "a" with
 * some start could sort among the windows of key "ab".
 */
export function windowLoggedKey(key: Buffer, windowStart: number): Buffer {
  const b = Buffer.allocUnsafe(4 + key.length + 8)
  b.writeUInt32BE(key.length, 0)
  key.copy(b, 4)
  writeOrderedInt64(b, windowStart, 4 + key.length)
  return b
}

export function parseWindowLoggedKey(logged: Buffer, offset = 0): { key: Buffer; windowStart: number } {
  const length = logged.readUInt32BE(offset)
  return { key: logged.subarray(offset + 4, offset + 4 + length), windowStart: readOrderedInt64(logged, offset + 4 + length) }
}

/** The window start of a logged key (its last 8 bytes), without parsing the rest. */
export function windowStartOfLogged(logged: Buffer): number {
  return readOrderedInt64(logged, logged.length - 8)
}

/** The window start of a logged key's map key (its latin1 string: the last 8 characters are the start's bytes). */
export function windowStartOfMapKey(mapKey: string): number {
  const n = mapKey.length - 8
  const hi = ((mapKey.charCodeAt(n) << 24) | (mapKey.charCodeAt(n + 1) << 16) | (mapKey.charCodeAt(n + 2) << 8) | mapKey.charCodeAt(n + 3)) >>> 0
  const lo = ((mapKey.charCodeAt(n + 4) << 24) | (mapKey.charCodeAt(n + 5) << 16) | (mapKey.charCodeAt(n + 6) << 8) | mapKey.charCodeAt(n + 7)) >>> 0
  return (hi - 0x80000000) * 0x100000000 + lo
}

/**
 * A record key converted for its windows: its bytes, and the map key of the window it was last
 * asked for (a record's `get` and `put` ask for the same window in a row).
 */
interface WindowKeyRef {
  readonly bytes: Buffer
  lastStart: number
  lastMapKey: string
}

class SegmentedWindowStore<K, V> extends SegmentedStore<K, V, ByteEntry> implements WindowStore<K, V> {
  private readonly windowSizeMs: number
  private readonly sizeEstimate = new ValueSizeEstimate()
  /** Each key's bytes and last window's map key (see `KeyMemo`): a batch's prefetch, `get` and `put` convert it once. */
  private readonly windowRefs = new KeyMemo<WindowKeyRef>()
  /** Where map keys are composed: one string allocated per window looked up, no Buffer. */
  private scratch = Buffer.allocUnsafeSlow(64)

  /**
   * Window starts per record key (by the key's map key) that the cache has held since the key was
   * first range-loaded or written: what `findWindows` looks up. Evicted starts stay listed (their
   * entries are reloaded by the next range load of the key, or skipped as absent); expiry prunes it.
   */
  private readonly startsByKey = new Map<string, Set<number>>()
  /**
   * Per key, the window starts whose windows are all in the cache (loaded by `prefetchRanges`, or
   * written since). Valid until the cache evicts from this store (`ns.evictions` moves).
   */
  private loadedRanges = new Map<string, { from: number; to: number }>()
  private evictionsSeen = 0
  /** Set by the first `prefetchRanges`: stores read by point only keep no index. */
  private rangeReads = false
  /** Windows this store never wrote to the engine, answered absent without reading it (point prefetch). */
  private readonly writtenKeys: SegmentKeyFilter

  constructor(spec: WindowStoreSpec<K, V>, ctx: StoreOpenContext, engineStore: EngineStore, localState: LocalStateStatus) {
    super(spec, ctx, engineStore, localState)
    this.windowSizeMs = spec.windowSizeMs
    this.writtenKeys = new SegmentKeyFilter(localState !== 'existing')
  }

  async prefetch(windows: readonly WindowKey<K>[]): Promise<void> {
    // Map keys alone until the engine must be read: most windows are cached or known absent.
    const missing = new Map<string, number>()
    for (const { key, windowStart } of windows) {
      const mapKey = this.windowMapKey(key, windowStart)
      const entry = this.ns.get(mapKey)
      if (entry) entry.used = true
      else if (windowStart < this.expiredBefore) this.ns.set(mapKey, byteEntry(mapKey, null))
      else missing.set(mapKey, windowStart)
    }
    if (missing.size === 0) return
    if (!this.writtenKeys.ready) this.writtenKeys.trackAbove((await this.segments.bounds())?.[1])
    const reads = new Map<string, Buffer>()
    for (const [mapKey, windowStart] of missing) {
      if (this.writtenKeys.mayHold(this.segments.segmentOf(windowStart), mapKey)) reads.set(mapKey, mapKeyToBytes(mapKey))
      // Checked again: a write may have come in while the bounds were read.
      else if (!this.ns.get(mapKey)) this.ns.set(mapKey, byteEntry(mapKey, null))
    }
    await loadByteEntries(this.ns, this.engineStore, reads, (logged) => this.engineKeyOf(logged))
  }

  put(key: K, value: V, windowStart: number): void {
    if (windowStart < this.expiredBefore) return
    writeByteEntry(this.ns, this.windowMapKey(key, windowStart), value, false, this.sizeEstimate)
    if (this.rangeReads) this.indexStart(this.keyOf(key).mapKey, windowStart)
  }

  remove(key: K, windowStart: number): void {
    if (windowStart < this.expiredBefore) return
    writeByteEntry(this.ns, this.windowMapKey(key, windowStart), undefined, true, this.sizeEstimate)
  }

  async prefetchRanges(ranges: readonly WindowRange<K>[]): Promise<void> {
    const byKey = new Map<string, { key: K; keyBytes: Buffer; from: number; to: number }>()
    for (const { key, from, to } of ranges) {
      const { bytes, mapKey } = this.keyOf(key)
      const known = byKey.get(mapKey)
      if (known) {
        known.from = Math.min(known.from, from)
        known.to = Math.max(known.to, to)
      } else byKey.set(mapKey, { key, keyBytes: bytes, from, to })
    }
    this.forgetRangesIfEvicted()
    if (!this.rangeReads) {
      this.rangeReads = true
      // Written before the index existed and not in the engine yet: only the dirty entries.
      for (const entry of this.ns.dirty) {
        const parsed = parseWindowLoggedKey(entry.key)
        this.indexStart(bytesToMapKey(parsed.key), parsed.windowStart)
      }
    }
    const bounds = await this.segments.bounds()
    await Promise.all(
      [...byKey].map(async ([keyMapKey, { keyBytes, from, to }]) => {
        const loaded = this.loadedRanges.get(keyMapKey)
        if (loaded && loaded.from <= from && to <= loaded.to) return
        // A range touching the loaded one only needs what lies outside it (time moves on by little
        // per batch); a disjoint one replaces it.
        if (loaded && from <= loaded.to + 1 && loaded.from <= to + 1) {
          if (from < loaded.from) await this.loadRange(keyMapKey, keyBytes, from, loaded.from - 1, bounds)
          if (to > loaded.to) await this.loadRange(keyMapKey, keyBytes, loaded.to + 1, to, bounds)
          this.loadedRanges.set(keyMapKey, { from: Math.min(from, loaded.from), to: Math.max(to, loaded.to) })
        } else {
          await this.loadRange(keyMapKey, keyBytes, from, to, bounds)
          this.loadedRanges.set(keyMapKey, { from, to })
        }
      }),
    )
  }

  private async loadRange(keyMapKey: string, keyBytes: Buffer, from: number, to: number, bounds: [number, number] | undefined): Promise<void> {
    for (const range of this.keyRanges(keyBytes, Math.max(from, this.expiredBefore), to, bounds)) {
      for await (const [engineKey, value] of this.engineStore.iterate(range)) {
        const logged = engineKey.subarray(8)
        const mapKey = bytesToMapKey(logged)
        // What the cache holds (written since, or loaded before) is at least as new as the engine.
        if (!this.ns.get(mapKey)) this.ns.set(mapKey, byteEntry(mapKey, value))
        this.indexStart(keyMapKey, windowStartOfLogged(logged))
      }
    }
  }

  /** The engine ranges (one per live segment) holding the windows of a key starting in [from, to]. */
  private *keyRanges(keyBytes: Buffer, from: number, to: number, bounds: [number, number] | undefined): Iterable<{ gte: Buffer; lt: Buffer }> {
    if (!bounds || from > to) return
    const first = Math.max(this.segments.segmentOf(from), bounds[0])
    const last = Math.min(this.segments.segmentOf(to), bounds[1])
    for (let segment = first; segment <= last; segment++) {
      yield { gte: this.segments.engineKey(segment, windowLoggedKey(keyBytes, from)), lt: this.segments.engineKey(segment, windowLoggedKey(keyBytes, to + 1)) }
    }
  }

  findWindows(key: K, from: number, to: number): [number, V][] {
    const { bytes, mapKey: keyMapKey } = this.keyOf(key)
    this.forgetRangesIfEvicted()
    const loaded = this.loadedRanges.get(keyMapKey)
    const low = Math.max(from, this.expiredBefore)
    if (low > to) return []
    if (!loaded || low < loaded.from || to > loaded.to) {
      const which = loaded ? ` (loaded: starts ${loaded.from}..${loaded.to})` : ''
      throw new StoreMissError(this.name, `windows [key ${describeKey(key)}, starts ${from}..${to}]${which}`)
    }
    const out: [number, V][] = []
    for (const start of this.startsByKey.get(keyMapKey) ?? []) {
      if (start < low || start > to) continue
      const entry = this.ns.get(bytesToMapKey(windowLoggedKey(bytes, start)))
      if (!entry) continue
      const value = readByteEntry(entry, this.valueSerde)
      if (value !== undefined) out.push([start, value])
    }
    return out.sort((a, b) => a[0] - b[0])
  }

  get(key: K, windowStart: number): V | undefined {
    if (windowStart < this.expiredBefore) return undefined
    const entry = this.ns.get(this.windowMapKey(key, windowStart))
    if (!entry) throw new StoreMissError(this.name, `window [key ${describeKey(key)}, start ${windowStart}]`)
    return readByteEntry(entry, this.valueSerde)
  }

  async *fetch(key: K, from: number, to: number): AsyncIterable<[number, V]> {
    from = Math.max(from, this.expiredBefore)
    if (from > to) return
    const keyBytes = this.keySerde.serialize(key)
    const found = new Map<number, Buffer | null>()
    for (const range of this.keyRanges(keyBytes, from, to, await this.segments.bounds())) {
      for await (const [engineKey, value] of this.engineStore.iterate(range)) found.set(parseWindowLoggedKey(engineKey, 8).windowStart, value)
    }
    for (const entry of this.ns.dirty) {
      const parsed = parseWindowLoggedKey(entry.key)
      if (parsed.windowStart >= from && parsed.windowStart <= to && parsed.key.equals(keyBytes))
        found.set(parsed.windowStart, entryBytes(this.ns, entry, this.valueSerde, this.sizeEstimate, this.name))
    }
    const starts = [...found.keys()].sort((a, b) => a - b)
    for (const start of starts) {
      const bytes = found.get(start)
      if (bytes) yield [start, this.valueSerde.deserialize(bytes)]
    }
  }

  async *fetchAll(from: number, to: number): AsyncIterable<[Windowed<K>, V]> {
    from = Math.max(from, this.expiredBefore)
    if (from > to) return
    const found = new Map<string, [Buffer, number, Buffer | null]>()
    const bounds = await this.segments.bounds()
    if (bounds) {
      const first = Math.max(this.segments.segmentOf(from), bounds[0])
      const last = Math.min(this.segments.segmentOf(to), bounds[1])
      for (let segment = first; segment <= last; segment++) {
        const range = { gte: Segments.prefix(segment), lt: Segments.prefix(segment + 1) }
        for await (const [engineKey, value] of this.engineStore.iterate(range)) {
          const parsed = parseWindowLoggedKey(engineKey, 8)
          if (parsed.windowStart >= from && parsed.windowStart <= to) found.set(bytesToMapKey(engineKey.subarray(8)), [parsed.key, parsed.windowStart, value])
        }
      }
    }
    for (const entry of this.ns.dirty) {
      const parsed = parseWindowLoggedKey(entry.key)
      if (parsed.windowStart >= from && parsed.windowStart <= to)
        found.set(bytesToMapKey(entry.key), [parsed.key, parsed.windowStart, entryBytes(this.ns, entry, this.valueSerde, this.sizeEstimate, this.name)])
    }
    const rows = [...found.values()].sort((a, b) => a[1] - b[1] || Buffer.compare(a[0], b[0]))
    for (const [keyBytes, start, bytes] of rows) {
      if (!bytes) continue
      const windowed: Windowed<K> = { key: this.keySerde.deserialize(keyBytes), window: { start, end: start + this.windowSizeMs } }
      yield [windowed, this.valueSerde.deserialize(bytes)]
    }
  }

  protected purgeExpired(cutoff: number): void {
    this.writtenKeys.dropBelow(this.segments.segmentOf(cutoff))
    for (const mapKey of this.ns.entries.keys()) if (windowStartOfMapKey(mapKey) < cutoff) this.ns.delete(mapKey)
    for (const [keyMapKey, starts] of this.startsByKey) {
      for (const start of starts) if (start < cutoff) starts.delete(start)
      if (starts.size === 0) this.startsByKey.delete(keyMapKey)
    }
  }

  override async wipe(): Promise<void> {
    await super.wipe()
    this.startsByKey.clear()
    this.loadedRanges = new Map()
    this.writtenKeys.reset()
  }

  flush(): Promise<void> {
    return flushByteEntries({
      store: this.name,
      ns: this.ns,
      engineStore: this.engineStore,
      changelog: this.changelog,
      valueSerde: this.valueSerde,
      estimate: this.sizeEstimate,
      engineKey: (logged) => this.writtenEngineKeyOf(logged),
    })
  }

  async restoreBatch(records: readonly ChangelogRecord[]): Promise<void> {
    const ops: WriteOp[] = []
    for (const r of records) {
      const key = this.writtenEngineKeyOf(r.key)
      ops.push(r.value === null ? { type: 'del', key } : { type: 'put', key, value: r.value })
      if (this.ns.entries.size > 0) this.ns.delete(bytesToMapKey(r.key))
    }
    this.loadedRanges = new Map()
    await this.engineStore.write(ops)
  }

  private forgetRangesIfEvicted(): void {
    if (this.ns.evictions === this.evictionsSeen) return
    this.evictionsSeen = this.ns.evictions
    this.loadedRanges = new Map()
  }

  private indexStart(keyMapKey: string, windowStart: number): void {
    let starts = this.startsByKey.get(keyMapKey)
    if (!starts) this.startsByKey.set(keyMapKey, (starts = new Set()))
    starts.add(windowStart)
  }

  /** The cache map key of a key's window: the latin1 string of its logged key (`windowLoggedKey`). */
  private windowMapKey(key: K, windowStart: number): string {
    let ref = this.windowRefs.get(key)
    if (ref === undefined) {
      // Its own allocation, not a view into Node's pool: the memo keeps it (see `KeyMemo`).
      ref = { bytes: retainedCopy(this.keySerde.serialize(key)), lastStart: Number.NaN, lastMapKey: '' }
      this.windowRefs.set(key, ref)
    } else if (ref.lastStart === windowStart) return ref.lastMapKey
    const bytes = ref.bytes
    const length = 4 + bytes.length + 8
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafeSlow(Math.max(length, 2 * this.scratch.length))
    const b = this.scratch
    b.writeUInt32BE(bytes.length, 0)
    bytes.copy(b, 4)
    writeOrderedInt64(b, windowStart, 4 + bytes.length)
    ref.lastStart = windowStart
    ref.lastMapKey = b.toString('latin1', 0, length)
    return ref.lastMapKey
  }

  /** The engine key of a window about to be written to the engine (noted in `writtenKeys`). */
  private writtenEngineKeyOf(logged: Buffer): Buffer {
    this.writtenKeys.add(this.segments.segmentOf(windowStartOfLogged(logged)), logged)
    return this.engineKeyOf(logged)
  }

  private engineKeyOf(logged: Buffer): Buffer {
    const segment = this.segments.segmentOf(windowStartOfLogged(logged))
    this.segments.touched(segment)
    return this.segments.engineKey(segment, logged)
  }
}

export async function openWindowStore<K, V>(spec: WindowStoreSpec<K, V>, ctx: StoreOpenContext): Promise<WindowStore<K, V>> {
  validateRetention(spec)
  if (!(Number.isFinite(spec.windowSizeMs) && spec.windowSizeMs > 0)) {
    throw new Error(`store "${spec.name}": windowSizeMs must be a positive number of milliseconds, got ${spec.windowSizeMs}`)
  }
  const { engineStore, localState } = await openEngineStore(ctx, spec)
  return new SegmentedWindowStore(spec, ctx, engineStore, localState)
}
