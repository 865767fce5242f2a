import type { Serde } from '../schemas/serde.js'
import type { TimeWindow } from '../state/types.js'

export type StoreKind = 'key-value' | 'window' | 'session'

/** A source record as a store's `keysFor` sees it: deserialized, with its event time. */
export interface PrefetchSourceRecord {
  readonly key: unknown
  readonly value: unknown
  readonly timestamp: number
}

/**
 * Which keys the task loads into a store's cache before each input batch:
 * `source-key` (the batch's deserialized source keys; right for any store keyed like its
 * sub-topology's input, which is what DSL aggregations and joins guarantee by repartitioning),
 * `none` (the processor only writes blindly, or reads through async scans), or `keysFor` (keys
 * derived from each source record, for a store read by the source's own child under another key,
 * e.g. an id: window stores return `WindowKey`s). `keysFor` applies to input batches only, not to
 * `prefetchSourceKeys` from punctuators.
 */
export type PrefetchMode = 'source-key' | 'none' | { readonly keysFor: (record: PrefetchSourceRecord) => readonly unknown[] }

interface StoreDefinitionBase<K, V> {
  readonly name: string
  readonly key: Serde<K>
  readonly value: Serde<V>
  /** Backed by a changelog topic `<applicationId>-<name>-changelog` (default true). */
  readonly logged: boolean
  readonly prefetch: PrefetchMode
  /**
   * Set for a table's source store: its source topic already is its changelog, so nothing is
   * written to a separate changelog and restoring reads this topic.
   */
  readonly restoreFromSourceTopic?: string
}

export interface KeyValueStoreDefinition<K, V> extends StoreDefinitionBase<K, V> {
  readonly kind: 'key-value'
}

export interface WindowStoreDefinition<K, V> extends StoreDefinitionBase<K, V> {
  readonly kind: 'window'
  readonly windowSizeMs: number
  /**
   * The windows a record at `timestamp` touches: with `prefetch: 'source-key'`, the task prefetches
   * these windows of the batch's keys. Without it a window store is not prefetched.
   */
  readonly windowsFor?: (timestamp: number) => readonly TimeWindow[]
  /**
   * Instead of `windowsFor`, for windows a record cannot name in advance (sliding windows, join
   * buffers): the range of window starts a record at `timestamp` reads. The task then loads, per
   * batch and key, every window in the union of its records' ranges (`WindowStore.prefetchRanges`).
   */
  readonly startsRead?: (timestamp: number) => { readonly from: number; readonly to: number }
  /** Windows that started before `streamTime - retentionMs` are dropped. At least size + grace. */
  readonly retentionMs: number
}

export interface SessionStoreDefinition<K, V> extends StoreDefinitionBase<K, V> {
  readonly kind: 'session'
  /** Sessions that ended before `streamTime - retentionMs` are dropped. At least gap + grace. */
  readonly retentionMs: number
  /**
   * The inactivity gap of the sessions it holds, when known: a record at time t can only touch
   * sessions ending at or after t - gap, so the per-batch prefetch reads no older ones.
   */
  readonly gapMs?: number
}

export type StoreDefinition<K = unknown, V = unknown> =
  | KeyValueStoreDefinition<K, V>
  | WindowStoreDefinition<K, V>
  | SessionStoreDefinition<K, V>

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- erases K/V variance for heterogeneous lists
export type AnyStoreDefinition = StoreDefinition<any, any>

export interface StoreOptions {
  logged?: boolean
  prefetch?: PrefetchMode
}

/** Store definitions for `builder.addStateStore()` and custom processors. */
export const Stores = {
  keyValue<K, V>(name: string, key: Serde<K>, value: Serde<V>, options: StoreOptions = {}): KeyValueStoreDefinition<K, V> {
    return { kind: 'key-value', name, key, value, logged: options.logged ?? true, prefetch: options.prefetch ?? 'source-key' }
  },
  window<K, V>(
    name: string,
    key: Serde<K>,
    value: Serde<V>,
    options: StoreOptions & {
      windowSizeMs: number
      retentionMs: number
      windowsFor?: (timestamp: number) => readonly TimeWindow[]
      startsRead?: (timestamp: number) => { readonly from: number; readonly to: number }
    },
  ): WindowStoreDefinition<K, V> {
    if (options.windowsFor && options.startsRead) throw new Error(`store '${name}': pass windowsFor or startsRead, not both`)
    const prefetched = options.windowsFor !== undefined || options.startsRead !== undefined
    if (!(options.windowSizeMs > 0)) throw new Error(`store '${name}': windowSizeMs must be > 0`)
    if (!(options.retentionMs >= options.windowSizeMs)) {
      throw new Error(`store '${name}': retentionMs (${options.retentionMs}) must be >= windowSizeMs (${options.windowSizeMs})`)
    }
    return {
      kind: 'window',
      name,
      key,
      value,
      logged: options.logged ?? true,
      prefetch: prefetched ? (options.prefetch ?? 'source-key') : 'none',
      windowSizeMs: options.windowSizeMs,
      retentionMs: options.retentionMs,
      ...(options.windowsFor ? { windowsFor: options.windowsFor } : {}),
      ...(options.startsRead ? { startsRead: options.startsRead } : {}),
    }
  },
  session<K, V>(
    name: string,
    key: Serde<K>,
    value: Serde<V>,
    options: StoreOptions & { retentionMs: number; gapMs?: number },
  ): SessionStoreDefinition<K, V> {
    if (!(options.retentionMs > 0)) throw new Error(`store '${name}': retentionMs must be > 0`)
    if (options.gapMs !== undefined && !(options.gapMs > 0)) throw new Error(`store '${name}': gapMs must be > 0`)
    return {
      kind: 'session',
      name,
      key,
      value,
      logged: options.logged ?? true,
      prefetch: options.prefetch ?? 'source-key',
      retentionMs: options.retentionMs,
      ...(options.gapMs === undefined ? {} : { gapMs: options.gapMs }),
    }
  },
}
