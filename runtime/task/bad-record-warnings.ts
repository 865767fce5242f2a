/**
 * Warn-level log lines for bad records, at most one per stage per interval: a stream of bad input
 * (a misconfigured producer, a clock-skewed client) must show in the logs without flooding them.
 * Each line carries how many were not logged since the previous one of its stage.
 */
import type pino from 'pino'

const DEFAULT_INTERVAL_MS = 10_000

export class BadRecordWarnings {
  private readonly lastLoggedAt = new Map<string, number>()
  private readonly suppressed = new Map<string, number>()

  constructor(
    private readonly log: pino.Logger,
    private readonly wallClock: () => number,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  warn(stage: string, fields: Record<string, unknown>, message: string): void {
    const now = this.wallClock()
    const last = this.lastLoggedAt.get(stage)
    if (last !== undefined && now - last < this.intervalMs) {
      this.suppressed.set(stage, (this.suppressed.get(stage) ?? 0) + 1)
      return
    }
    const suppressed = this.suppressed.get(stage) ?? 0
    this.lastLoggedAt.set(stage, now)
    this.suppressed.set(stage, 0)
    this.log.warn({ stage, ...fields, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) }, message)
  }
}
