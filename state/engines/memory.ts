import type { EngineStore, KeyRange, StorageEngine, WriteOp } from '../types.js'
import { bytesToMapKey } from '../bytes.js'

/**
 * A sorted in-memory table. Writes go to a hash map (O(1)); the sorted key index is rebuilt lazily,
 * only when a scan needs it, by sorting the keys added since the last scan and merging. The
 * TopologyTestDriver mostly does point reads and batch writes, so it rarely pays for sorting.
 *
 * Map keys are latin1 strings of the key bytes: JS string comparison then equals memcmp order.
 * Buffers passed to `write` are kept, not copied: writers hand over fresh buffers and never reuse them.
 */
class MemoryTable {
  readonly entries = new Map<string, [Buffer, Buffer]>()
  private sorted: string[] = []
  private added: string[] = []
  private removed = 0

  put(key: Buffer, value: Buffer): void {
    const k = bytesToMapKey(key)
    if (!this.entries.has(k)) this.added.push(k)
    this.entries.set(k, [key, value])
  }

  del(key: Buffer): void {
    if (this.entries.delete(bytesToMapKey(key))) this.removed++
  }

  deleteRange(gte: Buffer, lt: Buffer): void {
    const index = this.index()
    const from = lowerBound(index, bytesToMapKey(gte))
    const to = lowerBound(index, bytesToMapKey(lt))
    for (let i = from; i < to; i++) this.entries.delete(index[i]!)
    index.splice(from, to - from)
  }

  /** The sorted keys, with deleted ones dropped and new ones merged in. */
  index(): string[] {
    if (this.added.length === 0 && this.removed === 0) return this.sorted
    const added = this.added.sort()
    const merged: string[] = []
    let i = 0
    let j = 0
    const keep = (k: string): void => {
      if (this.entries.has(k) && merged[merged.length - 1] !== k) merged.push(k)
    }
    while (i < this.sorted.length && j < added.length) {
      const a = this.sorted[i]!
      const b = added[j]!
      if (a <= b) {
        keep(a)
        i++
      } else {
        keep(b)
        j++
      }
    }
    while (i < this.sorted.length) keep(this.sorted[i++]!)
    while (j < added.length) keep(added[j++]!)
    this.sorted = merged
    this.added = []
    this.removed = 0
    return merged
  }
}

/** First index whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

const SCAN_CHUNK = 512

class MemoryStore implements EngineStore {
  private closed = false

  constructor(
    readonly path: string,
    private readonly table: MemoryTable,
  ) {}

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    this.ensureOpen()
    return keys.map((key) => this.table.entries.get(bytesToMapKey(key))?.[1])
  }

  async write(ops: readonly WriteOp[]): Promise<void> {
    this.ensureOpen()
    for (const op of ops) {
      if (op.type === 'put') this.table.put(op.key, op.value)
      else if (op.type === 'del') this.table.del(op.key)
      else this.table.deleteRange(op.gte, op.lt)
    }
  }

  /**
   * Scans in chunks, re-seeking after the last key returned, so writes between chunks neither break
   * the scan nor make it return a key twice (like a RocksDB iterator, minus the snapshot).
   */
  async *iterate(range: KeyRange = {}): AsyncIterable<[Buffer, Buffer]> {
    this.ensureOpen()
    const gte = range.gte ? bytesToMapKey(range.gte) : undefined
    const lt = range.lt ? bytesToMapKey(range.lt) : undefined
    let remaining = range.limit ?? Infinity
    let last: string | undefined
    while (remaining > 0) {
      const index = this.table.index()
      const chunk: [Buffer, Buffer][] = []
      if (!range.reverse) {
        let i = last === undefined ? (gte === undefined ? 0 : lowerBound(index, gte)) : lowerBound(index, last + '\0')
        for (; i < index.length && chunk.length < SCAN_CHUNK && chunk.length < remaining; i++) {
          const k = index[i]!
          if (lt !== undefined && k >= lt) break
          chunk.push(this.table.entries.get(k)!)
          last = k
        }
      } else {
        let i = (last === undefined ? (lt === undefined ? index.length : lowerBound(index, lt)) : lowerBound(index, last)) - 1
        for (; i >= 0 && chunk.length < SCAN_CHUNK && chunk.length < remaining; i--) {
          const k = index[i]!
          if (gte !== undefined && k < gte) break
          chunk.push(this.table.entries.get(k)!)
          last = k
        }
      }
      for (const entry of chunk) yield entry
      remaining -= chunk.length
      if (chunk.length < SCAN_CHUNK) return
    }
  }

  async approximateCount(): Promise<number> {
    this.ensureOpen()
    return this.table.entries.size
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`memory store ${this.path} is closed`)
  }
}

/**
 * In-memory engine. Tables live as long as the engine object, keyed by path, so closing and reopening
 * a store on the same engine (a task moving away and back in the TopologyTestDriver) keeps its data
 * just as a disk engine would; `destroy` forgets it.
 */
export function memoryEngine(): StorageEngine {
  const tables = new Map<string, MemoryTable>()
  return {
    kind: 'memory',
    async open(path: string): Promise<EngineStore> {
      let table = tables.get(path)
      if (!table) tables.set(path, (table = new MemoryTable()))
      return new MemoryStore(path, table)
    },
    async destroy(path: string): Promise<void> {
      tables.delete(path)
    },
  }
}
