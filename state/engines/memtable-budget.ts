import { stateLogger } from '../log.js'
import type { MemtableBudgetStats } from '../types.js'

/** What the budget needs of a store: its memtable size and a way to flush it to a table file. */
export interface MemtableHolder {
  readonly path: string
  memtableBytes(): Promise<number>
  flushMemtable(): Promise<void>
}

/**
 * One bound on the memtables of all the stores an engine has open (an instance's engine, so one per
 * instance), as Kafka Streams bounds them with a write buffer manager shared by its stores, which
 * rocksdb-native does not offer.
 *
 * Why: an instance holds one database per store per task (LLM-Sentinel on 6 partitions: 289), and a
 * database flushes its memtable only when it reaches `writeBufferSize`. Stores are small and updated
 * in place (an aggregate per key per commit), and the memtable keeps every version until the flush,
 * so at the soak's rates a store takes hours to fill its 4 MiB: meanwhile all memtables grow together,
 * and an instance's native memory climbs for hours toward stores x writeBufferSize (the soaks' RSS
 * climb, bench/state/native-growth.ts). With the budget, every `checkMs` the sizes are summed and,
 * over the budget, the largest memtables are flushed (one at a time, in the background threads of
 * RocksDB) until the sum is back under it.
 *
 * Memtables under `minFlushBytes` are never flushed for the budget: a table file of a few records
 * costs more (compaction, open files) than it frees, and a new memtable allocates its first arena
 * block (writeBufferSize / 8) again at the next write.
 */
export class MemtableBudget {
  private readonly open = new Set<MemtableHolder>()
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined
  readonly stats: MemtableBudgetStats = { checks: 0, flushes: 0, flushedBytes: 0, lastTotalBytes: 0 }

  constructor(
    readonly budgetBytes: number,
    private readonly minFlushBytes: number,
    private readonly checkMs: number,
  ) {}

  add(store: MemtableHolder): void {
    if (this.budgetBytes <= 0) return
    this.open.add(store)
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.check(), this.checkMs)
      // Never what keeps a process alive.
      this.timer.unref()
    }
  }

  /**
   * Before the store closes: it is not flushed from then on. A flush of it already running is one of
   * the database's requests, which its close waits for.
   */
  remove(store: MemtableHolder): void {
    this.open.delete(store)
    if (this.open.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  /** One check (what the timer runs); a check still running is awaited instead of starting another. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined))
    return this.checking
  }

  private async checkOnce(): Promise<void> {
    const stores = [...this.open]
    const sizes = await Promise.all(stores.map(async (store) => ({ store, bytes: await store.memtableBytes().catch(() => 0) })))
    let total = sizes.reduce((sum, s) => sum + s.bytes, 0)
    this.stats.checks++
    this.stats.lastTotalBytes = total
    if (total <= this.budgetBytes) return
    sizes.sort((a, b) => b.bytes - a.bytes)
    for (const { store, bytes } of sizes) {
      if (total <= this.budgetBytes || bytes < this.minFlushBytes) break
      if (!this.open.has(store)) continue
      try {
        await store.flushMemtable()
      } catch (err) {
        // A store closed meanwhile has nothing left to bound; anything else is worth a look but not fatal.
        if (this.open.has(store)) stateLogger.warn({ err, store: store.path }, 'memtable flush for the memtable budget failed')
        continue
      }
      total -= bytes
      this.stats.flushes++
      this.stats.flushedBytes += bytes
    }
  }
}
