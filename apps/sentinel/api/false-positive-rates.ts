/**
 * False-positive rate per detector, from the feedback stored in the anomaly view (seed 002's
 * `sentinel_false_positive_rate`): of a detector's anomalies that got feedback, the share whose
 * latest label is `false_positive`. Null for a detector without feedback yet.
 *
 * Read by paging through the anomaly view over every instance (the listing's scatter-gather), so
 * every instance reports the same figure for the whole view (within its retention), and kept for
 * `cacheMs` (default 30 s): the detectors listing and each /metrics scrape reuse it. Reading is
 * bounded: at most `maxPages` pages of 500 anomalies; beyond, or when an instance did not answer,
 * the result says `partial`.
 */
import { Gauge, type Registry } from 'prom-client'
import type { ForwardContext } from './interactive-queries.js'
import type { ViewReads } from './view-reads.js'
import type { Cursor } from './keyset-pages.js'

export interface DetectorFeedback {
  /** Anomalies with at least one feedback label. */
  readonly labelled: number
  readonly falsePositives: number
  /** falsePositives / labelled, or null without feedback. */
  readonly rate: number | null
}

export interface FalsePositiveRatesSnapshot {
  readonly byDetector: ReadonlyMap<string, DetectorFeedback>
  readonly partial: boolean
  readonly at: number
}

const PAGE = 500

export class FalsePositiveRates {
  private cached: FalsePositiveRatesSnapshot | null = null
  private pending: Promise<FalsePositiveRatesSnapshot> | null = null

  constructor(
    private readonly reads: ViewReads,
    private readonly now: () => number,
    private readonly options: { readonly cacheMs?: number; readonly maxPages?: number } = {},
  ) {}

  /** The rates, from the cache when fresh; one read at a time however many callers ask. */
  async snapshot(via: ForwardContext): Promise<FalsePositiveRatesSnapshot> {
    if (this.cached !== null && this.now() - this.cached.at < (this.options.cacheMs ?? 30_000)) return this.cached
    this.pending ??= this.read(via).finally(() => {
      this.pending = null
    })
    this.cached = await this.pending
    return this.cached
  }

  private async read(via: ForwardContext): Promise<FalsePositiveRatesSnapshot> {
    const counts = new Map<string, { labelled: number; falsePositives: number }>()
    let after: Cursor | null = null
    let partial = false
    const maxPages = this.options.maxPages ?? 200
    for (let page = 0; ; page++) {
      if (page === maxPages) {
        partial = true
        break
      }
      const got = await this.reads.anomalies.page({ filter: {}, limit: PAGE, after }, via)
      partial ||= got.unavailable.length > 0
      for (const item of got.items) {
        const latest = item.feedback.at(-1)
        if (latest === undefined) continue
        const entry = counts.get(item.anomaly.detector_id) ?? { labelled: 0, falsePositives: 0 }
        entry.labelled += 1
        if (latest.label === 'false_positive') entry.falsePositives += 1
        counts.set(item.anomaly.detector_id, entry)
      }
      const last = got.items.at(-1)
      if (!got.has_more || last === undefined) break
      after = this.reads.anomalies.view.listing.position(last)
    }
    const byDetector = new Map([...counts].map(([id, c]) => [id, { ...c, rate: c.labelled === 0 ? null : c.falsePositives / c.labelled }]))
    return { byDetector, partial, at: this.now() }
  }
}

/**
 * `sentinel_false_positive_rate{detector}`, computed at scrape time for the configured detectors
 * only (bounded labels); a detector without feedback has no sample.
 */
export function falsePositiveRateGauge(registry: Registry, rates: FalsePositiveRates, detectorIds: readonly string[], via: ForwardContext): void {
  const name = 'sentinel_false_positive_rate'
  if (registry.getSingleMetric(name) !== undefined) return
  const known = new Set(detectorIds)
  new Gauge({
    name,
    help: "Share of a detector's anomalies whose latest feedback is false_positive (from the anomaly view, every instance)",
    labelNames: ['detector'],
    registers: [registry],
    async collect() {
      this.reset()
      try {
        const snapshot = await rates.snapshot(via)
        for (const [detector, feedback] of snapshot.byDetector) if (known.has(detector) && feedback.rate !== null) this.set({ detector }, feedback.rate)
      } catch {
        // No instance could be read (rebalancing): no sample this scrape rather than a failed scrape.
      }
    },
  })
}
