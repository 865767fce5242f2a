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
import type { Serde } from '../schemas/serde.js'
import type { RecordCache } from './record-cache.js'
import type { Windowed } from '../schemas/windowed.js'

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
  /**
   * Applies all operations atomically, in order. The engine may keep the buffers it is given (the
   * in-memory engine does, to avoid copies): callers must not modify them afterwards.
   */
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
  /** RocksDB: what its memtable budget saw and did (live; read it for metrics). */
  readonly memtableBudget?: MemtableBudgetStats
}

export interface MemtableBudgetStats {
  checks: number
  flushes: number
  /** Memtable bytes handed to flushes, summed. */
  flushedBytes: number
  /** Sum over the open stores at the last check. */
  lastTotalBytes: number
}

export type { TimeWindow, Windowed } from '../schemas/windowed.js'

/** One record of a store's changelog topic: key and value bytes, `null` value = tombstone. */
export interface ChangelogRecord {
  readonly key: Buffer
  readonly value: Buffer | null
}

/**
 * Where logged stores hand their flushed updates. The runtime decides when they are acknowledged:
 * if `flush` is present, a store awaits it after handing over its records and before writing its
 * engine batch, so local state is never ahead of an acknowledged changelog.
 */
export interface ChangelogSink {
  append(store: string, key: Buffer, value: Buffer | null): void
  flush?(): Promise<void>
}

/**
 * How the store's local files were found when it opened: `existing` (reopened; a checkpoint may
 * apply), `new` (nothing there) or `wiped` (unreadable, deleted and recreated). For `new` and `wiped`
 * the runtime must restore from the changelog's beginning, whatever a checkpoint says.
 */
export type LocalStateStatus = 'existing' | 'new' | 'wiped'

/** Common life cycle of every typed store. */
export interface StateStore {
  readonly name: string
  /** Whether updates go to a changelog topic (`<applicationId>-<name>-changelog`). */
  readonly logged: boolean
  readonly localState: LocalStateStatus
  /**
   * Loads what the next batch will touch into the cache with one batched engine read. Each store
   * type narrows what a "key" is (record keys, or `WindowKey`s for window stores).
   */
  prefetch(keys: readonly unknown[]): Promise<void>
  /** Writes dirty cache entries to the changelog (if logged) and the engine, in one batch. */
  flush(): Promise<void>
  /**
   * Restore: applies changelog records (key/value bytes exactly as this store logged them) to the
   * engine in one batch write, bypassing cache and changelog. Only before processing starts.
   */
  restoreBatch(records: readonly ChangelogRecord[]): Promise<void>
  /** Deletes the local state (engine files and cached entries) before a restore from scratch. */
  wipe(): Promise<void>
  /**
   * Drops the cache's entries, unflushed writes included, so that a `close` after it writes nothing:
   * a task closed dirty (abandoned, or lost to another owner) must not send state that may be older
   * than the changelog's to the changelog, nor write it locally.
   */
  discardUnflushed(): void
  close(): Promise<void>
}

/**
 * Point reads (`get`, `getMany`, window `get`, `findSessions`) are answered from the cache only. A
 * key that was neither prefetched nor written since it was last evicted throws a `StoreMissError`
 * naming the store and saying to prefetch: never a silent `undefined`. Prefetched keys found absent
 * are cached as known-absent, so a later `get` of them returns `undefined` correctly.
 * Values returned by reads are the cached objects: do not mutate them without `put`ting them. Nor
 * mutate a value after `put`: the store keeps the object and serializes it at the next flush (once,
 * however many puts), so a later mutation would reach the changelog and the engine.
 */
export interface KeyValueStore<K, V> extends StateStore {
  prefetch(keys: readonly K[]): Promise<void>
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

/** One window of one key, as window stores prefetch them. */
export interface WindowKey<K> {
  readonly key: K
  readonly windowStart: number
}

/** The windows of one key whose starts lie in [from, to]. */
export interface WindowRange<K> {
  readonly key: K
  readonly from: number
  readonly to: number
}

export interface WindowStore<K, V> extends StateStore {
  prefetch(windows: readonly WindowKey<K>[]): Promise<void>
  /** Ignored for windows already expired (start before `streamTime - retention` of the last expire). */
  put(key: K, value: V, windowStart: number): void
  /** The value of one window, from the cache (the window must have been prefetched). */
  get(key: K, windowStart: number): V | undefined
  /** Deletes one window (a tombstone in the changelog). */
  remove(key: K, windowStart: number): void
  /**
   * Loads every window of each key with from <= windowStart <= to into the cache (one engine seek
   * per key and live segment), so `findWindows` can answer within those bounds synchronously. For
   * windows whose starts a record cannot predict (sliding windows, join buffers). Each call replaces
   * the bounds of the previous one: call it once per input batch with all of the batch's ranges.
   */
  prefetchRanges(ranges: readonly WindowRange<K>[]): Promise<void>
  /**
   * Windows of `key` with from <= windowStart <= to, in start order, from the cache: the range must
   * lie within what the last `prefetchRanges` loaded for the key, or it throws `StoreMissError`.
   */
  findWindows(key: K, from: number, to: number): [number, V][]
  /** Windows of `key` with from <= windowStart <= to, in start order. */
  fetch(key: K, from: number, to: number): AsyncIterable<[number, V]>
  fetchAll(from: number, to: number): AsyncIterable<[Windowed<K>, V]>
  /** Drops windows that started before `streamTime - retention` (cheap: whole segments at once). */
  expire(streamTime: number): Promise<void>
}

export interface Session<K> {
  readonly key: K
  readonly start: number
  readonly end: number
}

export interface SessionStore<K, V> extends StateStore {
  /**
   * Loads the sessions of each key into the cache: all of them, or with `earliestEnd` only those that
   * end at or after it (on disk engines it then reads only the newest segments, not every live one).
   * `findSessions` with an earlier `earliestEnd` then throws `StoreMissError` until a wider prefetch.
   */
  prefetch(keys: readonly K[], earliestEnd?: number): Promise<void>
  put(session: Session<K>, value: V): void
  remove(session: Session<K>): void
  /**
   * Sessions of `key` with end >= earliestEnd and start <= latestStart, from the cache (the key must
   * have been prefetched or the store must have seen every session of it), ordered by start then end.
   */
  findSessions(key: K, earliestEnd: number, latestStart: number): [Session<K>, V][]
  /** Drops sessions that ended before `streamTime - retention` (cheap: whole segments at once). */
  expire(streamTime: number): Promise<void>
}

/** What opening a store needs from its task. */
export interface StoreOpenContext {
  applicationId: string
  taskId: string
  /** Root state directory; the store lives in `<stateDir>/<applicationId>/<taskId>/<store>/`. */
  stateDir: string
  engine: StorageEngine
  /** The task's record cache, shared by all its stores. */
  cache: RecordCache
  /** Required when a store is logged. */
  changelog?: ChangelogSink
}

export interface KeyValueStoreSpec<K, V> {
  name: string
  keySerde: Serde<K>
  valueSerde: Serde<V>
  /** Log updates to `<applicationId>-<name>-changelog` (default true: a store is fault tolerant). */
  logged?: boolean
}

export interface WindowStoreSpec<K, V> extends KeyValueStoreSpec<K, V> {
  /** How long windows are kept after their start (at least window size + grace). */
  retentionMs: number
  windowSizeMs: number
  /** Width of a segment, the unit of expiry (default: max(retentionMs / 2, 60_000)). */
  segmentIntervalMs?: number
}

export interface SessionStoreSpec<K, V> extends KeyValueStoreSpec<K, V> {
  /** How long sessions are kept after their end. */
  retentionMs: number
  segmentIntervalMs?: number
}
