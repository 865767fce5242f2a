/**
 * Deduplication by anomaly_id: detectors emit deterministic ids and at-least-once delivery replays
 * them, so an id seen before is dropped here and never alerts twice.
 *
 * State: a window store keyed by anomaly_id (the sub-topology's source key, after a repartition by
 * it) holding the first-seen event time, in tumbling buckets of `retentionMs`. An id is looked up in
 * the bucket of its timestamp and the one before, and the store keeps two buckets: every id is
 * remembered for at least `retentionMs` of stream time and at most twice that, and expiry is the
 * window store's own (whole segments dropped at commit) — no scans, no per-id timers. An anomaly
 * whose previous bucket has already expired is too old to tell: it is dropped as late (counted).
 */
import type { Logger } from 'pino'
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../schemas/index.js'
import type { TimeWindow, WindowStore } from '../../../state/types.js'
import { type Processor, type ProcessorContext, type StreamRecord, Stores, type WindowStoreDefinition } from '../../../topology/index.js'
import type { AlertingMetrics } from './alerting-metrics.js'

/** The buckets an anomaly at `t` is looked up in: its own and the one before. */
export function dedupBuckets(t: number, bucketMs: number): TimeWindow[] {
  const start = Math.floor(t / bucketMs) * bucketMs
  return start - bucketMs >= 0 ? [{ start, end: start + bucketMs }, { start: start - bucketMs, end: start }] : [{ start, end: start + bucketMs }]
}

export function dedupStore(name: string, retentionMs: number): WindowStoreDefinition<string, number> {
  return Stores.window(name, Serdes.string(), Serdes.long(), { windowSizeMs: retentionMs, retentionMs: 2 * retentionMs, windowsFor: (t) => dedupBuckets(t, retentionMs) })
}

export class AnomalyDedupProcessor implements Processor<string, AnomalyEvent, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private seen!: WindowStore<string, number>

  constructor(
    private readonly store: WindowStoreDefinition<string, number>,
    private readonly metrics: AlertingMetrics,
    private readonly log: Logger,
  ) {}

  init(context: ProcessorContext<string, AnomalyEvent>): void {
    this.context = context
    this.seen = context.getStateStore(this.store)
  }

  process(record: StreamRecord<string, AnomalyEvent>): void {
    const id = record.key
    const buckets = dedupBuckets(record.timestamp, this.store.windowSizeMs)
    const oldest = buckets[buckets.length - 1]!.start
    if (oldest < this.context.streamTime() - this.store.retentionMs) {
      this.metrics.dropped.inc({ reason: 'late' })
      this.log.warn({ anomaly_id: id, timestamp: record.timestamp, stream_time: this.context.streamTime() }, 'anomaly older than the dedup retention dropped: cannot tell whether it alerted before')
      return
    }
    if (buckets.some((b) => this.seen.get(id, b.start) !== undefined)) {
      this.metrics.dropped.inc({ reason: 'duplicate' })
      this.log.debug({ anomaly_id: id }, 'duplicate anomaly dropped')
      return
    }
    this.seen.put(id, record.timestamp, buckets[0]!.start)
    this.context.forward(record)
  }
}
