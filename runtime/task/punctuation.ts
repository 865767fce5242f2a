/**
 * The punctuators a task's processors scheduled (`context.schedule`): stream-time ones fire as
 * event time passes their next time, wall-clock ones as the clock does. Each fires at most once per
 * check, then is due again one interval after the time it fired at (no catch-up bursts).
 */
import type { Cancellable, PunctuationType, Punctuator } from '../../topology/processor.js'

export interface ScheduledPunctuator extends Cancellable {
  readonly node: string
  readonly intervalMs: number
  readonly type: PunctuationType
  readonly fn: Punctuator
  next: number
  cancelled: boolean
}

export class PunctuationSchedule {
  private readonly punctuators: ScheduledPunctuator[] = []

  schedule(node: string, intervalMs: number, type: PunctuationType, fn: Punctuator, now: { wallClock: number; streamTime: number }): Cancellable {
    if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
      throw new Error(`processor '${node}': schedule() interval must be > 0 ms (got ${intervalMs})`)
    }
    // Stream time unknown yet (-1): the first record's event time makes it due.
    const next = type === 'wall-clock' ? now.wallClock + intervalMs : now.streamTime < 0 ? -Infinity : now.streamTime + intervalMs
    const punctuator: ScheduledPunctuator = {
      node,
      intervalMs,
      type,
      fn,
      next,
      cancelled: false,
      cancel() {
        this.cancelled = true
      },
    }
    this.punctuators.push(punctuator)
    return punctuator
  }

  /** A restarted task got its stream time back: punctuators waiting for a first record count from it. */
  streamTimeRestored(streamTime: number): void {
    for (const p of this.punctuators) if (p.type === 'stream-time' && p.next === -Infinity) p.next = streamTime
  }

  hasDue(type: PunctuationType, time: number): boolean {
    for (const p of this.punctuators) if (p.type === type && !p.cancelled && time >= p.next) return true
    return false
  }

  /**
   * `takeDue` one at a time, without a generator (stream-time punctuators are checked after most
   * records): the index of the first punctuator of `type` due at `time` at or after `from`, moved on
   * one interval; -1 when none. Read it with `at`.
   */
  nextDue(type: PunctuationType, time: number, from: number): number {
    for (let i = from; i < this.punctuators.length; i++) {
      const p = this.punctuators[i]!
      if (p.type !== type || p.cancelled || time < p.next) continue
      p.next = time + p.intervalMs
      return i
    }
    return -1
  }

  at(index: number): ScheduledPunctuator {
    return this.punctuators[index]!
  }

  /**
   * The punctuators of `type` due at `time`, each moved on one interval as it is handed out, so the
   * caller may await each run (one scheduled meanwhile is looked at too).
   */
  *takeDue(type: PunctuationType, time: number): Generator<ScheduledPunctuator> {
    for (const p of this.punctuators) {
      if (p.type !== type || p.cancelled || time < p.next) continue
      p.next = time + p.intervalMs
      yield p
    }
  }
}
