/**
 * `sentinel_group_field_missing_total{detector}`: records a detector saw without its groupBy value
 * (no `metadata.tags.region`, no user_id), whether it then skipped them or judged them under
 * `(missing)` (missingGroup). A rising count says the field is not sent as the detector assumes.
 * Counted per instance, for the partitions it reads, before the repartition by the group.
 */
import { Counter, type Registry } from 'prom-client'
import { BoundedLabelValues, type LabelOverflowLog } from './bounded-label-values.js'

/** Detector ids come from the detectors file: far fewer than this. */
const MAX_DETECTOR_LABELS = 100

export class GroupFieldMissing {
  private readonly counter: Counter<'detector'>
  private readonly detectors: BoundedLabelValues

  constructor(registry: Registry, log?: LabelOverflowLog) {
    const name = 'sentinel_group_field_missing_total'
    this.counter =
      (registry.getSingleMetric(name) as Counter<'detector'> | undefined) ??
      new Counter({
        name,
        help: "Records without the detector's groupBy value (skipped or grouped under (missing), per missingGroup)",
        labelNames: ['detector'],
        registers: [registry],
      })
    this.detectors = new BoundedLabelValues('sentinel_group_field_missing_total{detector}', MAX_DETECTOR_LABELS, log)
  }

  /** One record without the value, for every detector grouping by that field. */
  count(detectors: readonly { readonly id: string }[]): void {
    for (const d of detectors) this.counter.inc({ detector: this.detectors.value(d.id) })
  }
}
