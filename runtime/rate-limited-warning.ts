/**
 * A warning that may fire once per event under attack (every rejected event of every batch) logged
 * at most once per interval, with how many were suppressed since, so a flood of bad input cannot
 * flood the log too.
 */
export interface WarnLog {
  warn(fields: Record<string, unknown>, message: string): void
}

export class RateLimitedWarning {
  private lastAt = Number.NEGATIVE_INFINITY
  private suppressed = 0

  constructor(
    private readonly log: WarnLog,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const at = this.now()
    if (at - this.lastAt < this.intervalMs) {
      this.suppressed += 1
      return
    }
    this.lastAt = at
    this.log.warn(this.suppressed > 0 ? { ...fields, suppressed: this.suppressed } : fields, message)
    this.suppressed = 0
  }
}
