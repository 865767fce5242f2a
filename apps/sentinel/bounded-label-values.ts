/**
 * A cap on the distinct values of one Prometheus label. prom-client keeps every label combination
 * it has seen for the life of the process, and /metrics prints them all: labelling by a value that
 * comes from telemetry (an application id, a model, a detector) lets any client grow memory and the
 * scrape without bound. The first `max` values seen keep their own series; every later one is
 * counted under `other`, and that is logged once per label so the operator knows the breakdown is
 * partial.
 */
export const OTHER_LABEL_VALUE = 'other'

export interface LabelOverflowLog {
  warn(fields: Record<string, unknown>, message: string): void
}

export class BoundedLabelValues {
  private readonly seen = new Set<string>()
  private warned = false

  constructor(
    /** The metric and label, for the warning. */
    private readonly label: string,
    private readonly max: number,
    private readonly log?: LabelOverflowLog,
  ) {
    if (!(Number.isSafeInteger(max) && max >= 1)) throw new Error(`BoundedLabelValues(${label}): max must be a positive integer, got ${max}`)
  }

  /** The value to put on the label: `value` itself while there is room or it is already known, else `other`. */
  value(value: string): string {
    if (this.seen.has(value)) return value
    if (this.seen.size < this.max) {
      this.seen.add(value)
      return value
    }
    if (!this.warned) {
      this.warned = true
      this.log?.warn({ label: this.label, max: this.max }, `metric label ${this.label} has reached ${this.max} distinct values; further values are counted as '${OTHER_LABEL_VALUE}'`)
    }
    return OTHER_LABEL_VALUE
  }
}
