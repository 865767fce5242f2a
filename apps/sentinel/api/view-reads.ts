/**
 * The API's reads of state: view stores (the anomaly view `anomalies-by-id`, the alert view
 * `alerts-by-id`) and detectors' per-key slots, each local or from the instance that holds it (see
 * interactive-queries.ts).
 */
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import { ANOMALY_VIEW_STORE, type AnomalyRecord } from '../anomaly-view.js'
import { type AnomalyFilter, type ListedAnomaly, anomalyListing } from './anomaly-query.js'
import { ApiError, unavailable } from './errors.js'
import type { ForwardContext, InteractiveQueries } from './interactive-queries.js'
import { type Cursor, type Listing, type Page, type TimeRange, decodeCursor, encodeCursor, localPageOf, mergePagesOf } from './keyset-pages.js'
import { slotStoreName } from './baseline-scoring.js'
import type { DetectorConfig } from '../detectors-config.js'

export interface PageQuery<F extends TimeRange = AnomalyFilter> {
  readonly filter: F
  readonly limit: number
  readonly after: Cursor | null
}

export interface GatheredPage<T> extends Page<T> {
  readonly unavailable: readonly string[]
}

/** What every listing query string has besides its filter fields (validated by its schema already). */
export interface ListQuery {
  from?: string
  to?: string
  limit?: number
  cursor?: string
}

/**
 * The filter, limit and cursor of a listing query. Its fields other than from, to, limit and cursor
 * are the filter's (the query schema admits no others).
 */
export function pageQueryOf<F extends TimeRange>(query: ListQuery): PageQuery<F> {
  const { from, to, limit, cursor, ...fields } = query as ListQuery & Record<string, unknown>
  const filter = {
    ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
    ...(from === undefined ? {} : { from: Date.parse(from) }),
    ...(to === undefined ? {} : { to: Date.parse(to) }),
  } as F
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) throw new ApiError(400, 'bad_request', `query 'from' (${from}) must be before 'to' (${to})`)
  return { filter, limit: limit ?? 50, after: cursor === undefined ? null : decodeCursor(cursor) }
}

/** The query string of an internal listing: the same filter (times as ISO-8601), limit and cursor. */
function internalListQuery(query: PageQuery<TimeRange>): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query.filter) as [string, unknown][]) {
    if (value === undefined) continue
    params.set(name, name === 'from' || name === 'to' ? new Date(value as number).toISOString() : String(value))
  }
  params.set('limit', String(query.limit))
  if (query.after !== null) params.set('cursor', encodeCursor(query.after))
  return params.toString()
}

/** A listing page as the public API answers it. */
export function pageResponse<T>(page: GatheredPage<T>, listing: Pick<Listing<unknown, unknown, T>, 'position'>) {
  const last = page.items.at(-1)
  return {
    items: page.items,
    next_cursor: page.has_more && last !== undefined ? encodeCursor(listing.position(last)) : null,
    partial: page.unavailable.length > 0,
    ...(page.unavailable.length > 0 ? { unavailable_hosts: page.unavailable } : {}),
  }
}

/** A view store the API reads: string keys (ids), entries `E` listed as items `T` under filter `F`. */
export interface ViewDefinition<E, F extends TimeRange, T> {
  readonly store: string
  /** What it lists, plural and singular, for messages. */
  readonly noun: string
  readonly singular: string
  /** Its internal endpoints: GET `<internalPath>?<query>` (this instance's page) and `<internalPath>/<id>` (an owned entry). */
  readonly internalPath: string
  readonly listing: Listing<E, F, T>
}

/** Reads of one view store across instances. */
export class ViewQueries<E, F extends TimeRange, T> {
  constructor(
    private readonly runtime: StreamsRuntime,
    private readonly queries: InteractiveQueries,
    readonly view: ViewDefinition<E, F, T>,
  ) {}

  private async localEntry(id: string): Promise<E | undefined> {
    return this.runtime.keyValueStore<string, E>(this.view.store).get(id)
  }

  /** The entry of `id` wherever it lives; undefined when no instance has it. */
  entry(id: string, via: ForwardContext): Promise<E | undefined> {
    return this.queries.byKey(this.view.store, id, () => this.localEntry(id), `${this.view.internalPath}/${encodeURIComponent(id)}`, via)
  }

  /**
   * The listed item of `id` wherever it lives, or 404: an entry that is not listable (an early
   * acknowledgement or delivery without its anomaly or alert) counts as unknown.
   */
  async known(id: string, via: ForwardContext): Promise<T> {
    const entry = await this.entry(id, via)
    // No filter: every listable entry passes (the filter's fields are all optional).
    const item = entry === undefined ? null : this.view.listing.select(entry, {} as F)
    if (item === null) throw new ApiError(404, 'not_found', `no ${this.view.singular} '${id}' (unknown, or older than the view's retention)`)
    return item
  }

  /** For the internal endpoint: this instance's entry, when it owns the id. */
  ownedEntry(id: string): Promise<E | undefined> {
    return this.queries.ownedLocally(this.view.store, id, () => this.localEntry(id))
  }

  /** This instance's page (its entries only). */
  localPage(query: PageQuery<F>): Promise<Page<T>> {
    return localPageOf(this.view.listing, this.runtime.keyValueStore<string, E>(this.view.store).all(), query.filter, query.limit, query.after)
  }

  /** The page over every instance; throws 503 when none answered. */
  async page(query: PageQuery<F>, via: ForwardContext): Promise<GatheredPage<T>> {
    const gathered = await this.queries.scatter(this.view.store, () => this.localPage(query), `${this.view.internalPath}?${internalListQuery(query)}`, via)
    if (gathered.results.length === 0) throw unavailable(`no instance could list ${this.view.noun} (${gathered.unavailable.join(', ')} did not answer); retry shortly`)
    return { ...mergePagesOf(this.view.listing, gathered.results, query.limit), unavailable: gathered.unavailable }
  }
}

export class ViewReads {
  readonly anomalies: ViewQueries<AnomalyRecord, AnomalyFilter, ListedAnomaly>

  constructor(
    private readonly runtime: StreamsRuntime,
    private readonly queries: InteractiveQueries,
  ) {
    this.anomalies = new ViewQueries(runtime, queries, { store: ANOMALY_VIEW_STORE, noun: 'anomalies', singular: 'anomaly', internalPath: '/internal/v1/anomalies', listing: anomalyListing })
  }

  private async localSlot(detector: DetectorConfig, key: string): Promise<unknown> {
    return this.runtime.keyValueStore<string, unknown>(slotStoreName(detector)).get(key)
  }

  /** A detector's stored slot for `key` wherever it lives; undefined when the key has none. */
  async slot(detector: DetectorConfig, key: string, via: ForwardContext): Promise<unknown> {
    const detectorId = detector.id
    const found = await this.queries.byKey<{ slot: unknown }>(
      slotStoreName(detector),
      key,
      async () => {
        const slot = await this.localSlot(detector, key)
        return slot === undefined ? undefined : { slot }
      },
      `/internal/v1/detectors/${encodeURIComponent(detectorId)}/slot?key=${encodeURIComponent(key)}`,
      via,
    )
    return found?.slot
  }

  ownedSlot(detector: DetectorConfig, key: string): Promise<unknown> {
    return this.queries.ownedLocally(slotStoreName(detector), key, () => this.localSlot(detector, key))
  }
}
