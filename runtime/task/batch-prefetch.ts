/**
 * What a batch will read, loaded before it runs: one batched engine read per store, so processors
 * read their stores synchronously (see state/README, "prefetched or it throws"). Source-keyed stores
 * load the batch's keys (window stores: the windows of each record's time); stores with
 * `prefetch: { keysFor }` load the keys it derives from each record.
 */
import type { SessionStore, StateStore, WindowStore } from '../../state/index.js'
import type { SourceKeyRead } from '../../topology/internal-context.js'
import type { AnyStoreDefinition, PrefetchSourceRecord } from '../../topology/stores.js'
import type { StorePlan } from '../../topology/topology.js'

export class BatchPrefetch {
  private readonly sourceKeyPlan: { store: StateStore; def: AnyStoreDefinition }[]
  private readonly derivedPlan: { store: StateStore; keysFor: (record: PrefetchSourceRecord) => readonly unknown[] }[]

  constructor(plans: readonly StorePlan[], stores: ReadonlyMap<string, StateStore>) {
    this.sourceKeyPlan = plans.filter((s) => s.definition.prefetch === 'source-key').map((s) => ({ store: stores.get(s.name)!, def: s.definition }))
    this.derivedPlan = plans.flatMap((s) => {
      const mode = s.definition.prefetch
      return typeof mode === 'object' ? [{ store: stores.get(s.name)!, keysFor: mode.keysFor }] : []
    })
  }

  /**
   * Everything a batch of source records will read: derived keys, then source keys, those of
   * `forwarded` too (records processors will forward during the batch, `loadBeforeBatch`).
   */
  async forBatch(records: readonly PrefetchSourceRecord[], forwarded: readonly SourceKeyRead[] = []): Promise<void> {
    if (this.derivedPlan.length > 0 && records.length > 0) {
      await Promise.all(
        this.derivedPlan.map(({ store, keysFor }) => {
          const keys: unknown[] = []
          for (const r of records) for (const k of keysFor(r)) keys.push(k)
          return keys.length > 0 ? store.prefetch(keys) : undefined
        }),
      )
    }
    return this.sourceKeys(forwarded.length === 0 ? records : [...records, ...forwarded])
  }

  /** One batched read per source-keyed store for these records (window stores: their windows). */
  async sourceKeys(records: readonly { readonly key: unknown; readonly timestamp: number }[]): Promise<void> {
    if (this.sourceKeyPlan.length === 0 || records.length === 0) return
    await Promise.all(
      this.sourceKeyPlan.map(({ store, def }) => {
        // Hot keys repeat throughout a batch: each (key, window) is looked up once. Primitive keys
        // dedupe by value, others by identity (still correct, just not deduplicated).
        if (def.kind === 'window' && def.startsRead) {
          const startsRead = def.startsRead
          const ranges: { key: unknown; from: number; to: number }[] = []
          for (const r of records) if (r.key !== null && r.key !== undefined) ranges.push({ key: r.key, ...startsRead(r.timestamp) })
          return (store as WindowStore<unknown, unknown>).prefetchRanges(ranges)
        }
        if (def.kind === 'window') {
          const windowsFor = def.windowsFor!
          const keys: { key: unknown; windowStart: number }[] = []
          const seen = new Map<unknown, Set<number>>()
          for (const r of records) {
            if (r.key === null || r.key === undefined) continue
            let starts = seen.get(r.key)
            if (!starts) seen.set(r.key, (starts = new Set()))
            for (const w of windowsFor(r.timestamp)) {
              if (starts.has(w.start)) continue
              starts.add(w.start)
              keys.push({ key: r.key, windowStart: w.start })
            }
          }
          return (store as WindowStore<unknown, unknown>).prefetch(keys)
        }
        const keys = new Set<unknown>()
        let earliest = Infinity
        for (const r of records) {
          if (r.key === null || r.key === undefined) continue
          keys.add(r.key)
          if (r.timestamp < earliest) earliest = r.timestamp
        }
        if (def.kind === 'session' && def.gapMs !== undefined) return (store as SessionStore<unknown, unknown>).prefetch([...keys], earliest - def.gapMs)
        return store.prefetch([...keys])
      }),
    )
  }
}
