import type { ChangelogRecord, EngineStore, LocalStateStatus, StoreOpenContext, WindowKey, WindowStore, WindowStoreSpec, Windowed, WriteOp } from '../types.js'
import { bytesToMapKey, readOrderedInt64, writeOrderedInt64 } from '../bytes.js'
import { ValueSizeEstimate, byteEntry, entryBytes, flushByteEntries, loadByteEntries, readByteEntry, writeByteEntry, type ByteEntry } from './byte-entry.js'
import { describeKey } from './key-value-store.js'
import { openEngineStore } from './open-engine.js'
import { SegmentedStore, validateRetention } from './segmented-store.js'
import { KeyMemo } from './key-memo.js'
import { Segments } from './segments.js'
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

/** One window of one key converted for the cache: its logged key and that key's map key. */
interface WindowRef {
  readonly windowStart: number
  readonly logged: Buffer
  readonly mapKey: string
}

class SegmentedWindowStore<K, V> extends SegmentedStore<K, V, ByteEntry> implements WindowStore<K, V> {
  private readonly windowSizeMs: number
  private readonly sizeEstimate = new ValueSizeEstimate()
  /** Each key's last window converted (see `KeyMemo`): a batch's prefetch, `get` and `put` convert it once. */
  private readonly windowRefs = new KeyMemo<WindowRef>()

  constructor(spec: WindowStoreSpec<K, V>, ctx: StoreOpenContext, engineStore: EngineStore, localState: LocalStateStatus) {
    super(spec, ctx, engineStore, localState)
    this.windowSizeMs = spec.windowSizeMs
  }

  async prefetch(windows: readonly WindowKey<K>[]): Promise<void> {
    const missing = new Map<string, Buffer>()
    for (const { key, windowStart } of windows) {
      const { logged, mapKey } = this.windowOf(key, windowStart)
      const entry = this.ns.get(mapKey)
      if (entry) entry.used = true
      else if (windowStart < this.expiredBefore) this.ns.set(mapKey, byteEntry(logged, null, false))
      else missing.set(mapKey, logged)
    }
    await loadByteEntries(this.ns, this.engineStore, missing, (logged) => this.engineKeyOf(logged))
  }

  put(key: K, value: V, windowStart: number): void {
    if (windowStart < this.expiredBefore) return
    const { logged, mapKey } = this.windowOf(key, windowStart)
    writeByteEntry(this.ns, mapKey, logged, value, false, this.sizeEstimate)
  }

  get(key: K, windowStart: number): V | undefined {
    if (windowStart < this.expiredBefore) return undefined
    const entry = this.ns.get(this.windowOf(key, windowStart).mapKey)
    if (!entry) throw new StoreMissError(this.name, `window [key ${describeKey(key)}, start ${windowStart}]`)
    return readByteEntry(entry, this.valueSerde)
  }

  async *fetch(key: K, from: number, to: number): AsyncIterable<[number, V]> {
    from = Math.max(from, this.expiredBefore)
    if (from > to) return
    const keyBytes = this.keySerde.serialize(key)
    const found = new Map<number, Buffer | null>()
    const bounds = await this.segments.bounds()
    if (bounds) {
      const first = Math.max(this.segments.segmentOf(from), bounds[0])
      const last = Math.min(this.segments.segmentOf(to), bounds[1])
      for (let segment = first; segment <= last; segment++) {
        const range = {
          gte: this.segments.engineKey(segment, windowLoggedKey(keyBytes, from)),
          lt: this.segments.engineKey(segment, windowLoggedKey(keyBytes, to + 1)),
        }
        for await (const [engineKey, value] of this.engineStore.iterate(range)) found.set(parseWindowLoggedKey(engineKey, 8).windowStart, value)
      }
    }
    for (const entry of this.ns.dirty) {
      const parsed = parseWindowLoggedKey(entry.key)
      if (parsed.windowStart >= from && parsed.windowStart <= to && parsed.key.equals(keyBytes)) found.set(parsed.windowStart, entryBytes(this.ns, entry, this.valueSerde, this.sizeEstimate, this.name))
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
      if (parsed.windowStart >= from && parsed.windowStart <= to) found.set(bytesToMapKey(entry.key), [parsed.key, parsed.windowStart, entryBytes(this.ns, entry, this.valueSerde, this.sizeEstimate, this.name)])
    }
    const rows = [...found.values()].sort((a, b) => a[1] - b[1] || Buffer.compare(a[0], b[0]))
    for (const [keyBytes, start, bytes] of rows) {
      if (!bytes) continue
      const windowed: Windowed<K> = { key: this.keySerde.deserialize(keyBytes), window: { start, end: start + this.windowSizeMs } }
      yield [windowed, this.valueSerde.deserialize(bytes)]
    }
  }

  protected purgeExpired(cutoff: number): void {
    for (const [mapKey, entry] of this.ns.entries) {
      if (parseWindowLoggedKey(entry.key).windowStart < cutoff) this.ns.delete(mapKey)
    }
  }

  flush(): Promise<void> {
    return flushByteEntries({
      store: this.name,
      ns: this.ns,
      engineStore: this.engineStore,
      changelog: this.changelog,
      valueSerde: this.valueSerde,
      estimate: this.sizeEstimate,
      engineKey: (entry) => this.engineKeyOf(entry.key),
    })
  }

  async restoreBatch(records: readonly ChangelogRecord[]): Promise<void> {
    const ops: WriteOp[] = []
    for (const r of records) {
      const key = this.engineKeyOf(r.key)
      ops.push(r.value === null ? { type: 'del', key } : { type: 'put', key, value: r.value })
      if (this.ns.entries.size > 0) this.ns.delete(bytesToMapKey(r.key))
    }
    await this.engineStore.write(ops)
  }

  private windowOf(key: K, windowStart: number): WindowRef {
    let ref = this.windowRefs.get(key)
    if (ref === undefined || ref.windowStart !== windowStart) {
      const logged = windowLoggedKey(this.keySerde.serialize(key), windowStart)
      ref = { windowStart, logged, mapKey: bytesToMapKey(logged) }
      this.windowRefs.set(key, ref)
    }
    return ref
  }

  private engineKeyOf(logged: Buffer): Buffer {
    const segment = this.segments.segmentOf(parseWindowLoggedKey(logged).windowStart)
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
