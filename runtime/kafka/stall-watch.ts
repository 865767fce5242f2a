/**
 * Makes a task that the group assigns to this instance but that does not run impossible to miss.
 * Such a partition is simply not processed, and nothing else fails: a fenced task waiting for a
 * rebalance that never comes looked exactly like a quiet partition for minutes. Past `boundMs` a
 * stalled task is logged at error once, with the last known cause, and counted in a gauge.
 */
import type pino from 'pino'
import type { Gauge } from 'prom-client'

export interface StallWatchOptions {
  boundMs: number
  logger: pino.Logger
  /** Stalled tasks of this instance now. */
  gauge: Gauge
}

export class StallWatch {
  /** Since when each assigned task has not been running. */
  private readonly since = new Map<string, number>()
  private readonly reported = new Set<string>()
  private readonly causes = new Map<string, { cause: string; err?: unknown }>()

  constructor(private readonly options: StallWatchOptions) {}

  /** Why a task is not running, for the report (the latest cause wins). */
  note(task: string, cause: string, err?: unknown): void {
    this.causes.set(task, err === undefined ? { cause } : { cause, err })
  }

  /** Called periodically, off the task queue (a stuck queue is a stall too). */
  check(assigned: ReadonlySet<string>, isRunning: (task: string) => boolean, now = Date.now()): void {
    for (const task of this.since.keys()) {
      if (!assigned.has(task)) this.clear(task)
    }
    for (const task of assigned) {
      if (isRunning(task)) {
        if (this.reported.has(task)) this.options.logger.info({ task, stalledMs: now - this.since.get(task)! }, 'stalled task is running again')
        this.clear(task)
      } else if (!this.since.has(task)) {
        this.since.set(task, now)
      }
    }
    let stalled = 0
    for (const [task, since] of this.since) {
      if (now - since < this.options.boundMs) continue
      stalled++
      if (this.reported.has(task)) continue
      this.reported.add(task)
      const { cause, err } = this.causes.get(task) ?? { cause: 'restoring or waiting to start' }
      this.options.logger.error(
        { task, stalledMs: now - since, cause, ...(err === undefined ? {} : { err }) },
        'task assigned to this instance has not been running for longer than taskStallTimeoutMs: its partition is not processed',
      )
    }
    this.options.gauge.set(stalled)
  }

  private clear(task: string): void {
    this.since.delete(task)
    this.reported.delete(task)
    this.causes.delete(task)
  }
}
