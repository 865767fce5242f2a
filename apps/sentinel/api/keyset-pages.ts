/**
 * Listing a view store (anomalies, alerts): filters, newest-first order and keyset pagination over
 * the entries of any number of instances.
 *
 * Order: item time descending, then id descending (ids are unique, so the order is total). The
 * cursor is the position of a page's last item, base64url-encoded: the next page is everything
 * strictly after it. Each instance answers "my first `limit` items after the cursor", and the merge
 * of those is exactly the global page, with no shared state and no offsets that shift when new items
 * arrive (a new item is newer than the cursor, so it never duplicates or skips an item of a later
 * page).
 */
import { ApiError } from './errors.js'

/** The position after which a page starts. */
export interface Cursor {
  /** Item time, epoch ms. */
  readonly t: number
  readonly id: string
}

export interface Page<T> {
  readonly items: readonly T[]
  /** True when more items follow the last one. */
  readonly has_more: boolean
}

/** The time range every listing filters on. */
export interface TimeRange {
  /** Epoch ms, inclusive. */
  readonly from?: number
  /** Epoch ms, exclusive. */
  readonly to?: number
}

/** How a view's entries (`E`) are listed as items (`T`) under a filter (`F`). */
export interface Listing<E, F, T> {
  /** The entry as listed, or null when it is not listable (yet) or fails the filter. */
  select(entry: E, filter: F): T | null
  /** The item's place in the order. */
  position(item: T): Cursor
}

export const inTimeRange = (t: number, range: TimeRange): boolean => (range.from === undefined || t >= range.from) && (range.to === undefined || t < range.to)

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.t, cursor.id]), 'utf8').toString('base64url')
}

export function decodeCursor(text: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') return { t: value[0] as number, id: value[1] }
  } catch {
    // reported below
  }
  throw new ApiError(400, 'bad_request', "query 'cursor' is not a cursor this API returned; pass next_cursor from the previous page unchanged, or omit it for the first page")
}

/** Negative when `a` comes first (newer, or same time and greater id). */
export function compareCursors(a: Cursor, b: Cursor): number {
  if (a.t !== b.t) return b.t - a.t
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

/**
 * One instance's page: its entries that pass the filter and come after the cursor, first `limit`.
 * Keeps only `limit + 1` candidates while scanning, so memory stays bounded by the page size.
 */
export async function localPageOf<E, F, T>(listing: Listing<E, F, T>, entries: AsyncIterable<[string, E]>, filter: F, limit: number, after: Cursor | null): Promise<Page<T>> {
  const order = (a: T, b: T): number => compareCursors(listing.position(a), listing.position(b))
  const trim = (items: T[], n: number): void => {
    items.sort(order)
    items.length = Math.min(items.length, n)
  }
  const kept: T[] = []
  for await (const [, entry] of entries) {
    const item = listing.select(entry, filter)
    if (item === null) continue
    if (after !== null && compareCursors(listing.position(item), after) <= 0) continue
    kept.push(item)
    if (kept.length > 4 * (limit + 1)) trim(kept, limit + 1)
  }
  trim(kept, limit + 1)
  return { items: kept.slice(0, limit), has_more: kept.length > limit }
}

/**
 * The global page from every instance's page. An id answered twice (two instances holding it for a
 * moment during a rebalance) is listed once.
 */
export function mergePagesOf<T>(listing: Pick<Listing<unknown, unknown, T>, 'position'>, pages: readonly Page<T>[], limit: number): Page<T> {
  const byId = new Map<string, T>()
  for (const page of pages)
    for (const item of page.items) {
      const id = listing.position(item).id
      if (!byId.has(id)) byId.set(id, item)
    }
  const all = [...byId.values()].sort((a, b) => compareCursors(listing.position(a), listing.position(b)))
  return { items: all.slice(0, limit), has_more: all.length > limit || pages.some((p) => p.has_more) }
}
