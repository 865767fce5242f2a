// Apart from the engine, so validating a config does not load the native binding.

/** Native memory settings of the RocksDB engine; each bounds what one store's database may hold. */
export interface RocksDBEngineOptions {
  /**
   * Keep RocksDB's block cache. rocksdb-native can neither size it nor share it between databases: on,
   * every store's database gets its own 32 MB LRU cache (RocksDB's default), so an instance's native
   * memory grows with stores x 32 MB as they read; off, reads go through the OS page cache (which the
   * kernel reclaims) and index and filter blocks stay with each open table file instead.
   */
  blockCache?: boolean
  /** Memtable size per store's database; up to two are held (one being flushed), so 2x this per store. */
  writeBufferSize?: number
  /** Table files a store's database keeps open (their readers hold the index and filter blocks); -1 = all. */
  maxOpenFiles?: number
  /** Flush and compaction threads a store's database may use at once. */
  maxBackgroundJobs?: number
  /**
   * One bound on the memtables of all stores open in the engine (one engine per instance): over it,
   * the largest memtables are flushed to table files (memtable-budget.ts). 0 = none: each store holds
   * up to 2 x writeBufferSize, and stores that fill slowly keep every update in memory for hours.
   */
  memtableBudgetBytes?: number
}

/** Defaults chosen from `bench/state/rocksdb-memory.ts` (figures in `bench/state/RESULTS.md`). */
export const ROCKSDB_DEFAULTS: Required<RocksDBEngineOptions> = {
  blockCache: false,
  writeBufferSize: 4 * 1024 * 1024,
  maxOpenFiles: 64,
  maxBackgroundJobs: 2,
  memtableBudgetBytes: 128 * 1024 * 1024,
}
