import type { TimeWindow } from '../state/types.js'

function checkDuration(what: string, value: number, allowZero: boolean): void {
  if (!Number.isSafeInteger(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer number of ms (got ${value})`)
  }
}

/**
 * Fixed-size windows aligned to the epoch: tumbling (advance = size) or hopping (advance < size).
 * A window [start, end) closes when stream time reaches end + grace; records for a closed window
 * are late.
 */
export class TimeWindows {
  readonly kind = 'time' as const
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  static tumbling(sizeMs: number, options: { graceMs?: number } = {}): TimeWindows {
    checkDuration('TimeWindows.tumbling: size', sizeMs, false)
    const grace = options.graceMs ?? 0
    checkDuration('TimeWindows.tumbling: graceMs', grace, true)
    return new TimeWindows(sizeMs, sizeMs, grace)
  }

  static hopping(sizeMs: number, advanceMs: number, options: { graceMs?: number } = {}): TimeWindows {
    checkDuration('TimeWindows.hopping: size', sizeMs, false)
    checkDuration('TimeWindows.hopping: advance', advanceMs, false)
    if (advanceMs > sizeMs) throw new Error(`TimeWindows.hopping: advance (${advanceMs}) must be <= size (${sizeMs})`)
    const grace = options.graceMs ?? 0
    checkDuration('TimeWindows.hopping: graceMs', grace, true)
    return new TimeWindows(sizeMs, advanceMs, grace)
  }

  /** Every window containing `timestamp`, in start order. */
  windowsFor(timestamp: number): TimeWindow[] {
    const out: TimeWindow[] = []
    const lastStart = timestamp - (timestamp % this.advanceMs)
    let start = lastStart
    while (start > timestamp - this.sizeMs && start >= 0) start -= this.advanceMs
    for (start += this.advanceMs; start <= lastStart; start += this.advanceMs) {
      out.push({ start, end: start + this.sizeMs })
    }
    return out
  }

  /** Stream time at which `window` closes. */
  closeTime(window: TimeWindow): number {
    return window.end + this.graceMs
  }

  describe(): string {
    return this.advanceMs === this.sizeMs
      ? `tumbling(size=${this.sizeMs}ms, grace=${this.graceMs}ms)`
      : `hopping(size=${this.sizeMs}ms, advance=${this.advanceMs}ms, grace=${this.graceMs}ms)`
  }
}

/**
 * Sessions per key: records closer than or equal to `gapMs` apart belong to one session; a record
 * that bridges two sessions merges them. A session [start, end] (end = its last record's time, as in
 * Kafka Streams) closes when stream time reaches end + gap + grace.
 */
export class SessionWindows {
  readonly kind = 'session' as const
  private constructor(
    readonly gapMs: number,
    readonly graceMs: number,
  ) {}

  static withGap(gapMs: number, options: { graceMs?: number } = {}): SessionWindows {
    checkDuration('SessionWindows.withGap: gap', gapMs, false)
    const grace = options.graceMs ?? 0
    checkDuration('SessionWindows.withGap: graceMs', grace, true)
    return new SessionWindows(gapMs, grace)
  }

  closeTime(window: TimeWindow): number {
    return window.end + this.gapMs + this.graceMs
  }

  describe(): string {
    return `session(gap=${this.gapMs}ms, grace=${this.graceMs}ms)`
  }
}

/**
 * Kafka Streams' sliding windows: a window of `timeDifferenceMs` per record-defined span. Windows
 * are closed on both ends, [start, start + timeDifference], and exist only where records are: each
 * record has a left window ending at its time and, when a later record falls within the time
 * difference, a right window starting just after it. A window closes when stream time passes its end
 * plus grace.
 */
export class SlidingWindows {
  readonly kind = 'sliding' as const
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    checkDuration('SlidingWindows.ofTimeDifferenceAndGrace: timeDifference', timeDifferenceMs, false)
    checkDuration('SlidingWindows.ofTimeDifferenceAndGrace: grace', graceMs, true)
    return new SlidingWindows(timeDifferenceMs, graceMs)
  }

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0)
  }

  /** The first stream time at which `window` is closed: its end is inclusive, so one past end + grace. */
  closeTime(window: TimeWindow): number {
    return window.end + this.graceMs + 1
  }

  describe(): string {
    return `sliding(timeDifference=${this.timeDifferenceMs}ms, grace=${this.graceMs}ms)`
  }
}

/**
 * Kafka Streams' `JoinWindows` for stream-stream joins: a left record at time t joins right records
 * of its key within [t - before, t + after] (a right record at t: left records within
 * [t - after, t + before]). Records are kept size + grace (size = before + after); left and outer
 * joins emit a record without a partner only once its window closed (stream time past its window end
 * plus grace). `before` and `after` may be negative (asymmetric windows), their sum may not.
 */
export class JoinWindows {
  readonly kind = 'join' as const
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    checkDuration('JoinWindows.ofTimeDifferenceAndGrace: timeDifference', timeDifferenceMs, true)
    checkDuration('JoinWindows.ofTimeDifferenceAndGrace: grace', graceMs, true)
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, graceMs)
  }

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0)
  }

  /** How far before a left record right records may be (may be negative). */
  before(beforeMs: number): JoinWindows {
    return JoinWindows.checked(beforeMs, this.afterMs, this.graceMs, 'before')
  }

  /** How far after a left record right records may be (may be negative). */
  after(afterMs: number): JoinWindows {
    return JoinWindows.checked(this.beforeMs, afterMs, this.graceMs, 'after')
  }

  get sizeMs(): number {
    return this.beforeMs + this.afterMs
  }

  private static checked(beforeMs: number, afterMs: number, graceMs: number, what: string): JoinWindows {
    if (!Number.isSafeInteger(beforeMs) || !Number.isSafeInteger(afterMs)) throw new Error(`JoinWindows.${what}: an integer number of ms expected`)
    if (beforeMs + afterMs < 0) throw new Error(`JoinWindows.${what}: before (${beforeMs}) + after (${afterMs}) must not be negative`)
    return new JoinWindows(beforeMs, afterMs, graceMs)
  }

  describe(): string {
    return `join(before=${this.beforeMs}ms, after=${this.afterMs}ms, grace=${this.graceMs}ms)`
  }
}
