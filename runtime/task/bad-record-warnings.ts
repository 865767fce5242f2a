/**
 * Warn-level log lines for bad records, at most one per stage per interval: a stream of bad input
 * (a misconfigured producer, a clock-skewed client) must show in the logs without flooding them.
 * Each line carries how many of its stage were not logged since the previous one.
 */
import type pino from 'pino'
import { RateLimitedWarning } from '../rate-limited-warning.js'

const DEFAULT_INTERVAL_MS = 10_000

export class BadRecordWarnings {
  private readonly byStage = new Map<string, RateLimitedWarning>()

  constructor(
    private readonly log: pino.Logger,
    private readonly wallClock: () => number,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  warn(stage: string, fields: Record<string, unknown>, message: string): void {
    let warning = this.byStage.get(stage)
    if (!warning) this.byStage.set(stage, (warning = new RateLimitedWarning(this.log, this.intervalMs, this.wallClock)))
    warning.warn({ stage, ...fields }, message)
  }
}
