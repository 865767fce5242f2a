/**
 * The contracts between the state layer and everything above it (DSL processors, runtime, driver).
 *
 * Two levels:
 *  - `EngineStore`: raw bytes, asynchronous, batched. RocksDB, LevelDB and in-memory implement it.
 *  - Typed stores (`KeyValueStore`, `WindowStore`, `SessionStore`): what processors use. Point reads
 *    and writes are SYNCHRONOUS and served by the task's write-back record cache, so the hot path never
 *    awaits the engine per record. The runtime (or the TopologyTestDriver) calls `prefetch(keys)` once
 *    per input batch, which loads the keys the batch will touch with one batched engine read; dirty
 *    entries reach the engine in one batch write per store on `flush()` (at commit, or when the cache
 *    is over its byte budget between batches). Range scans are asynchronous.
 */

/** One operation of a batch write to an engine. `deleteRange` removes keys in [gte, lt). */
export type WriteOp =
  | { type: 'put'; key: Buffer; value: Buffer }
  | { type: 'del'; key: Buffer }
  | { type: 'deleteRange'; gte: Buffer; lt: Buffer }

export interface KeyRange {
  gte?: Buffer
  lt?: Buffer
  reverse?: boolean
  limit?: number
}

/** A raw ordered byte store. Keys sort by unsigned byte order (memcmp), as RocksDB's default. */
export interface EngineStore {
  readonly path: string
  getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]>
  /** Applies all operations atomically, in order. */
  write(ops: readonly WriteOp[]): Promise<void>
  iterate(range?: KeyRange): AsyncIterable<[Buffer, Buffer]>
  approximateCount(): Promise<number>
  close(): Promise<void>
}

export type EngineKind = 'rocksdb' | 'leveldb' | 'memory'

export interface StorageEngine {
  readonly kind: EngineKind
  /** Opens (creating if needed) the store at `path`; `memory` ignores the path's contents. */
  open(path: string): Promise<EngineStore>
  /** Removes the store's files (used when local state is corrupt or no longer owned). */
  destroy(path: string): Promise<void>
}

/** A time window [start, end). */
export interface TimeWindow {
  readonly start: number
  readonly end: number
}

/** The key of a windowed table: the record key plus the window it belongs to. */
export interface Windowed<K> {
  readonly key: K
  readonly window: TimeWindow
}

/** Common life cycle of every typed store. */
export interface StateStore {
  readonly name: string
  /** Loads what the next batch will touch into the cache with one batched engine read. */
  prefetch(keys: readonly unknown[]): Promise<void>
  /** Writes dirty cache entries to the changelog (if logged) and the engine, in one batch. */
  flush(): Promise<void>
  close(): Promise<void>
}

export interface KeyValueStore<K, V> extends StateStore {
  get(key: K): V | undefined
  getMany(keys: readonly K[]): (V | undefined)[]
  put(key: K, value: V): void
  putAll(entries: readonly (readonly [K, V])[]): void
  delete(key: K): void
  /** Entries with from <= key < to, in serialized-key order (cache and engine merged). */
  range(from?: K, to?: K): AsyncIterable<[K, V]>
  all(): AsyncIterable<[K, V]>
  approximateCount(): Promise<number>
}

export interface WindowStore<K, V> extends StateStore {
  put(key: K, value: V, windowStart: number): void
  /** The value of one window, from the cache (the window must have been prefetched). */
  get(key: K, windowStart: number): V | undefined
  /** Windows of `key` with from <= windowStart <= to, in start order. */
  fetch(key: K, from: number, to: number): AsyncIterable<[number, V]>
  fetchAll(from: number, to: number): AsyncIterable<[Windowed<K>, V]>
  /** Drops windows that started before `streamTime - retention` (cheap: by segment). */
  expire(streamTime: number): Promise<void>
}

export interface Session<K> {
  readonly key: K
  readonly start: number
  readonly end: number
}

export interface SessionStore<K, V> extends StateStore {
  put(session: Session<K>, value: V): void
  remove(session: Session<K>): void
  /** Sessions of `key` with end >= earliestEnd and start <= latestStart, from the cache (prefetched). */
  findSessions(key: K, earliestEnd: number, latestStart: number): [Session<K>, V][]
}
