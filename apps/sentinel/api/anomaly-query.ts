/**
 * Listing anomalies: the anomaly view's filter and order for the keyset pagination of
 * keyset-pages.ts (anomaly timestamp descending, then anomaly_id descending).
 */
import type { AnomalyStatus } from '../../../schemas/anomaly/anomaly-event.js'
import type { AnomalySeverity } from '../../../operators/detectors/severity.js'
import type { AnomalyRecord } from '../anomaly-view.js'
import { type Cursor, type Listing, type Page, type TimeRange, encodeCursor, inTimeRange, localPageOf, mergePagesOf } from './keyset-pages.js'

export { type Cursor, decodeCursor, encodeCursor } from './keyset-pages.js'

export interface AnomalyFilter extends TimeRange {
  readonly severity?: AnomalySeverity
  readonly application_id?: string
  readonly detector_id?: string
  readonly status?: AnomalyStatus
}

/** A listed anomaly: an entry of the view that has its anomaly. */
export type ListedAnomaly = Omit<AnomalyRecord, 'anomaly' | 'updated_at'> & { readonly anomaly: NonNullable<AnomalyRecord['anomaly']> }

export type AnomalyPage = Page<ListedAnomaly>

const positionOf = (item: ListedAnomaly): Cursor => ({ t: Date.parse(item.anomaly.timestamp), id: item.anomaly.anomaly_id })

export const cursorOf = (item: ListedAnomaly): string => encodeCursor(positionOf(item))

/** The entry as listed, or null when it has no anomaly yet or fails the filter. */
export function listed(entry: AnomalyRecord, filter: AnomalyFilter): ListedAnomaly | null {
  const anomaly = entry.anomaly
  if (anomaly === null) return null
  if (!inTimeRange(Date.parse(anomaly.timestamp), filter)) return null
  if (filter.severity !== undefined && anomaly.severity !== filter.severity) return null
  if (filter.application_id !== undefined && anomaly.application_id !== filter.application_id) return null
  if (filter.detector_id !== undefined && anomaly.detector_id !== filter.detector_id) return null
  if (filter.status !== undefined && entry.status !== filter.status) return null
  return toListed(entry, anomaly)
}

export function toListed(entry: AnomalyRecord, anomaly: NonNullable<AnomalyRecord['anomaly']>): ListedAnomaly {
  return {
    anomaly,
    status: entry.status,
    acknowledged_by: entry.acknowledged_by,
    acknowledged_at: entry.acknowledged_at,
    acknowledgement_note: entry.acknowledgement_note,
    feedback: entry.feedback,
  }
}

export const anomalyListing: Listing<AnomalyRecord, AnomalyFilter, ListedAnomaly> = { select: listed, position: positionOf }

/** One instance's page of anomalies (see keyset-pages.ts). */
export const localPage = (entries: AsyncIterable<[string, AnomalyRecord]>, filter: AnomalyFilter, limit: number, after: Cursor | null): Promise<AnomalyPage> => localPageOf(anomalyListing, entries, filter, limit, after)

/** The global page of anomalies from every instance's page. */
export const mergePages = (pages: readonly AnomalyPage[], limit: number): AnomalyPage => mergePagesOf(anomalyListing, pages, limit)
