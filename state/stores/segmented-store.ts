import type { CacheEntry } from '../record-cache.js'
import type { EngineStore, KeyValueStoreSpec, LocalStateStatus, StoreOpenContext } from '../types.js'
import { CachedStore } from './cached-store.js'
import { Segments, defaultSegmentInterval } from './segments.js'

/** What window and session store specs add for segments. */
interface SegmentedSpec {
  name: string
  retentionMs: number
  segmentIntervalMs?: number
}

/**
 * A cached store split into time segments with a retention (window and session stores): `expire`
 * drops whole segments, and records older than `streamTime - retention` are hidden from then on.
 */
export abstract class SegmentedStore<K, V, E extends CacheEntry> extends CachedStore<K, V, E> {
  protected segments: Segments
  private readonly segmentIntervalMs: number
  private readonly retentionMs: number
  /** Records timed before this (window start, session end) are expired: reads skip them, puts ignore them. */
  protected expiredBefore = -Infinity

  constructor(spec: KeyValueStoreSpec<K, V> & SegmentedSpec, ctx: StoreOpenContext, engineStore: EngineStore, localState: LocalStateStatus) {
    super(spec, ctx, engineStore, localState)
    this.retentionMs = spec.retentionMs
    this.segmentIntervalMs = spec.segmentIntervalMs ?? defaultSegmentInterval(spec.retentionMs)
    this.segments = new Segments(this.segmentIntervalMs, engineStore)
  }

  async expire(streamTime: number): Promise<void> {
    const cutoff = streamTime - this.retentionMs
    if (cutoff <= this.expiredBefore) return
    this.expiredBefore = cutoff
    const dropped = await this.segments.dropBefore(cutoff)
    if (dropped === undefined) return
    this.purgeExpired(cutoff)
  }

  /** Rare (once per segment interval): drops from the cache what the dropped segments held. */
  protected abstract purgeExpired(cutoff: number): void

  override async wipe(): Promise<void> {
    await super.wipe()
    this.segments = new Segments(this.segmentIntervalMs, this.engineStore)
    this.expiredBefore = -Infinity
  }
}

export function validateRetention(spec: SegmentedSpec): void {
  if (!(Number.isFinite(spec.retentionMs) && spec.retentionMs > 0)) {
    throw new Error(`store "${spec.name}": retentionMs must be a positive number of milliseconds, got ${spec.retentionMs}`)
  }
  if (spec.segmentIntervalMs !== undefined && !(Number.isFinite(spec.segmentIntervalMs) && spec.segmentIntervalMs > 0)) {
    throw new Error(`store "${spec.name}": segmentIntervalMs must be a positive number of milliseconds, got ${spec.segmentIntervalMs}`)
  }
}
