import { readOrderedInt64, writeOrderedInt64 } from '../bytes.js'
import type { EngineStore } from '../types.js'

/**
 * Time segments of a windowed or session store. Every engine key starts with its 8-byte segment id,
 * so a whole segment is one contiguous key range and expiry is one `deleteRange` (a single range
 * tombstone in RocksDB) instead of a scan deleting key by key.
 */
export class Segments {
  /** Segments below this id have been range-deleted already. */
  private droppedBelow = -Infinity
  private lowest: number | undefined
  private highest: number | undefined
  private boundsLoaded = false

  constructor(
    readonly intervalMs: number,
    private readonly engineStore: EngineStore,
  ) {}

  segmentOf(timestamp: number): number {
    return Math.floor(timestamp / this.intervalMs)
  }

  static prefix(segment: number): Buffer {
    const b = Buffer.allocUnsafe(8)
    writeOrderedInt64(b, segment, 0)
    return b
  }

  /** The engine key: segment id then the logged key. */
  engineKey(segment: number, loggedKey: Buffer): Buffer {
    const b = Buffer.allocUnsafe(8 + loggedKey.length)
    writeOrderedInt64(b, segment, 0)
    loggedKey.copy(b, 8)
    return b
  }

  /** Notes that a segment received data (flush, restore), widening the known bounds. */
  touched(segment: number): void {
    if (!this.boundsLoaded) return
    if (this.lowest === undefined || segment < this.lowest) this.lowest = segment
    if (this.highest === undefined || segment > this.highest) this.highest = segment
  }

  /** Lowest and highest segment that may hold data: two seeks after open, then tracked. */
  async bounds(): Promise<[number, number] | undefined> {
    if (!this.boundsLoaded) {
      for await (const [key] of this.engineStore.iterate({ limit: 1 })) this.lowest = readOrderedInt64(key, 0)
      for await (const [key] of this.engineStore.iterate({ limit: 1, reverse: true })) this.highest = readOrderedInt64(key, 0)
      this.boundsLoaded = true
    }
    if (this.lowest === undefined || this.highest === undefined) return undefined
    return [Math.max(this.lowest, this.droppedBelow), this.highest]
  }

  /**
   * Drops every segment that ends at or before `cutoff`. Returns the new lowest live segment if any
   * segment was dropped (callers then purge their cache), else undefined.
   */
  async dropBefore(cutoff: number): Promise<number | undefined> {
    const firstLive = this.segmentOf(cutoff)
    if (firstLive <= this.droppedBelow) return undefined
    await this.engineStore.write([{ type: 'deleteRange', gte: Buffer.alloc(8), lt: Segments.prefix(firstLive) }])
    this.droppedBelow = firstLive
    if (this.lowest !== undefined && this.lowest < firstLive) this.lowest = firstLive
    return firstLive
  }
}

export function defaultSegmentInterval(retentionMs: number): number {
  return Math.max(Math.floor(retentionMs / 2), 60_000)
}
